"""The order rendering stored for replay, compiled from `OrderSerializer`
(shared/fast_serializers.py), is exactly what the serializer shows."""

from __future__ import annotations

import json

import pytest
from rest_framework import serializers

from order_site.orders import services
from order_site.orders.models import Order
from order_site.orders.serializers import OrderSerializer, render_order
from shared.fast_serializers import renderer
from tests.order.conftest import donut_line, latte_line, pay

pytestmark = pytest.mark.django_db


def test_render_order_equals_the_order_serializer_for_lines_options_and_history(
    menu, client_for, customer, barista
):
    response = client_for(customer).post(
        "/api/orders/",
        {"payment_method": "pm_card_visa", "lines": [latte_line(2), donut_line(1)]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="render-1",
    )
    order_id = response.json()["id"]
    pay(order_id)
    services.order_advance(order_id=order_id, to_status="in_preparation", actor=barista)

    order = Order.objects.get(id=order_id)
    rendered = render_order(order)

    assert rendered == json.loads(json.dumps(OrderSerializer(order).data))
    assert len(rendered["history"]) == 3
    assert json.loads(json.dumps(rendered)) == rendered  # plain JSON data


def test_placement_answer_is_the_order_as_read_back(menu, client_for, customer):
    response = client_for(customer).post(
        "/api/orders/",
        {"payment_method": "pm_card_visa", "lines": [latte_line(1)]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="render-2",
    )

    order = Order.objects.get(id=response.json()["id"])
    assert response.json() == json.loads(json.dumps(OrderSerializer(order).data))
    assert order.response_body == response.json()


class OrderWithMore(OrderSerializer):
    """OrderSerializer and two fields more: what a renderer compiled from it must show."""

    line_count = serializers.SerializerMethodField()

    class Meta(OrderSerializer.Meta):
        fields = [*OrderSerializer.Meta.fields, "line_count", "idempotency_key"]

    def get_line_count(self, order: Order) -> int:
        return order.lines.count()


def test_the_renderer_follows_the_serializers_declaration(menu, client_for, customer):
    response = client_for(customer).post(
        "/api/orders/",
        {"payment_method": "pm_card_visa", "lines": [latte_line(1), donut_line(2)]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="render-3",
    )
    order = Order.objects.get(id=response.json()["id"])

    rendered = renderer(OrderWithMore())(order)

    assert rendered == json.loads(json.dumps(OrderWithMore(order).data))
    assert (rendered["line_count"], rendered["idempotency_key"]) == (2, "render-3")


def test_a_field_the_renderer_cannot_show_is_refused_when_it_is_compiled():
    class WithAPrice(serializers.Serializer):
        price = serializers.DecimalField(max_digits=5, decimal_places=2)

    with pytest.raises(TypeError, match="price"):
        renderer(WithAPrice())
