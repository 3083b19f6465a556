"""Request and response shapes of the orders API (they also describe it in OpenAPI)."""

from __future__ import annotations

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


_DATETIME = serializers.DateTimeField()  # DRF's own ISO 8601 rendering, built once


def render_order(order: Order) -> dict[str, Any]:
    """The order as the API shows it, as plain JSON data (stored for idempotent replay).

    The same data as `OrderSerializer(order).data` (a test holds them equal), built by
    hand: it runs on every placement, where building the nested DRF serializer per
    call cost more than the rest of the rendering. Reads `order.lines` and
    `order.status_changes` (prefetched, or one query each).
    """
    return {
        "id": order.id,
        "customer_id": order.customer_id,
        "status": str(order.status),
        "total": order.total,
        "currency": order.currency,
        "created_at": _DATETIME.to_representation(order.created_at),
        "updated_at": _DATETIME.to_representation(order.updated_at),
        "lines": [
            {
                "id": line.id,
                "product_id": line.product_id,
                "product_name": line.product_name,
                "variation_id": line.variation_id,
                "variation_name": line.variation_name,
                "options": [
                    {
                        "id": int(option["id"]),
                        "group": str(option["group"]),
                        "name": str(option["name"]),
                        "price_delta": int(option["price_delta"]),
                    }
                    for option in line.options
                ],
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "line_total": line.line_total,
            }
            for line in order.lines.all()
        ],
        "history": [
            {
                "from_status": change.from_status,
                "to_status": str(change.to_status),
                "actor_id": change.actor_id,
                "at": _DATETIME.to_representation(change.at),
                "note": change.note,
            }
            for change in order.status_changes.all()
        ],
        "refunded": bool(order.refund_reference),
        "failure_reason": order.failure_reason or None,
    }
