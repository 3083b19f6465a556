"""Request and response shapes of the orders API (they also describe it in OpenAPI)."""

from __future__ import annotations

import json
from typing import Any

from rest_framework import serializers

from order_site.orders.models import Order, OrderLine, OrderStatus, OrderStatusChange
from order_site.orders.services import ADVANCE_TARGETS
from order_site.payments.services import DEFAULT_PAYMENT_METHOD
from shared.pricing import MAX_QUANTITY, MIN_QUANTITY

MAX_ID = 2**63 - 1
ADVANCE_CHOICES = [str(status) for status in ADVANCE_TARGETS]


class LineInputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    variation_id = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, allow_null=True, default=None
    )
    option_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        default=list,
        max_length=20,
    )
    quantity = serializers.IntegerField(min_value=MIN_QUANTITY, max_value=MAX_QUANTITY)


class PlaceOrderInputSerializer(serializers.Serializer):
    lines = serializers.ListField(child=LineInputSerializer(), min_length=1, max_length=50)
    # The card as typed (sandbox test cards) or a provider token such as `pm_card_visa`;
    # it goes to the payment provider only, never into the order or its events.
    payment_method = serializers.RegexField(
        r"^(?:[0-9 ]{12,23}|pm_[A-Za-z0-9_]{1,60})$",
        required=False,
        default=DEFAULT_PAYMENT_METHOD,
    )


class CancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255, required=False, default="", allow_blank=True)


class AdvanceInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ADVANCE_CHOICES)


class LineOptionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    group = serializers.CharField()
    name = serializers.CharField()
    price_delta = serializers.IntegerField()


class OrderLineSerializer(serializers.ModelSerializer):
    options = LineOptionSerializer(many=True)

    class Meta:
        model = OrderLine
        fields = [
            "id",
            "product_id",
            "product_name",
            "variation_id",
            "variation_name",
            "options",
            "quantity",
            "unit_price",
            "line_total",
        ]


class StatusChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderStatusChange
        fields = ["from_status", "to_status", "actor_id", "at", "note"]


class OrderSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    lines = OrderLineSerializer(many=True)
    history = StatusChangeSerializer(many=True, source="status_changes")
    refunded = serializers.SerializerMethodField()
    failure_reason = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "id",
            "customer_id",
            "status",
            "total",
            "currency",
            "created_at",
            "updated_at",
            "lines",
            "history",
            "refunded",
            "failure_reason",
        ]

    def get_refunded(self, order: Order) -> bool:
        return bool(order.refund_reference)

    def get_failure_reason(self, order: Order) -> str | None:
        """Why the payment failed (the provider's words), else null."""
        return order.failure_reason or None


def render_order(order: Order) -> dict[str, Any]:
    """The order as the API shows it, as plain JSON data (stored for idempotent replay)."""
    data: dict[str, Any] = json.loads(json.dumps(OrderSerializer(order).data))
    return data
