"""Request and response shapes of the orders API (they also describe it in OpenAPI)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from rest_framework import serializers

from order_site.orders.models import Order, OrderLine, OrderStatus, OrderStatusChange
from order_site.orders.selectors import order_cancellable_until
from order_site.orders.services import ADVANCE_TARGETS
from order_site.payments.services import PAYMENT_TOKEN, PAYMENT_TOKEN_HELP
from shared.cart import EMPTY_MESSAGE, LINES_CAP_MESSAGE, MAX_LINES, MAX_OPTIONS, errors_flatten
from shared.pricing import MAX_QUANTITY, MIN_QUANTITY

MAX_ID = 2**63 - 1
ADVANCE_CHOICES = [str(status) for status in ADVANCE_TARGETS]


class JsonIntegerField(serializers.IntegerField):
    """A JSON integer only: `true`, `"3"` and `3.0` are refused, as the BFF's price
    preview refuses them (shared/cart.py), instead of being coerced."""

    def to_internal_value(self, data: Any) -> int:
        if type(data) is not int:
            self.fail("invalid")
        return int(super().to_internal_value(data))


class LineInputSerializer(serializers.Serializer):
    product_id = JsonIntegerField(min_value=1, max_value=MAX_ID)
    variation_id = JsonIntegerField(
        min_value=1, max_value=MAX_ID, required=False, allow_null=True, default=None
    )
    option_ids = serializers.ListField(
        child=JsonIntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        default=list,
        max_length=MAX_OPTIONS,
    )
    quantity = JsonIntegerField(min_value=MIN_QUANTITY, max_value=MAX_QUANTITY)


class PlaceOrderInputSerializer(serializers.Serializer):
    # The order-level caps (shared/cart.py); the total number of items is checked with
    # the menu (shared.cart.cart_check), the same check the BFF's preview makes.
    lines = serializers.ListField(
        child=LineInputSerializer(),
        min_length=1,
        max_length=MAX_LINES,
        error_messages={"min_length": EMPTY_MESSAGE, "max_length": LINES_CAP_MESSAGE},
    )
    # The payment provider's token for the card (`pm_…`, docs/decisions.md "Card
    # data"); required, no default. A card number is refused without being echoed.
    payment_method = serializers.RegexField(
        PAYMENT_TOKEN,
        error_messages={
            "required": "A payment method is required: " + PAYMENT_TOKEN_HELP,
            "invalid": PAYMENT_TOKEN_HELP,
            "blank": PAYMENT_TOKEN_HELP,
            "null": PAYMENT_TOKEN_HELP,
        },
    )


LINE_KEYS = frozenset(LineInputSerializer._declared_fields)
PLACE_KEYS = frozenset(PlaceOrderInputSerializer._declared_fields)


def place_order_input(data: Any) -> dict[str, Any]:
    """The validated body of a placement, as `PlaceOrderInputSerializer` gives it.

    A body in the serializer's own canonical form (JSON integers, no unknown keys, no
    whitespace to trim) is checked here directly: a nested DRF serializer copies its
    whole field tree on every call, a large part of a placement's cost. Anything else —
    every error, every value DRF would coerce — goes to the serializer, which stays
    the one judge of what is wrong and how it is told (`tests/order/orders/
    test_place_input.py` holds the two to the same answers); its errors are named flat
    (`lines[0].quantity`), in the words the BFF's preview uses (shared/cart.py).
    """
    fast = _place_order_input_canonical(data)
    if fast is not None:
        return fast
    serializer = PlaceOrderInputSerializer(data=data)
    if not serializer.is_valid():
        # Named as the BFF's price preview names them (`lines[0].quantity`).
        raise serializers.ValidationError(errors_flatten(serializer.errors))
    return dict(serializer.validated_data)


def _id(value: Any) -> bool:
    return type(value) is int and 1 <= value <= MAX_ID


def _place_order_input_canonical(data: Any) -> dict[str, Any] | None:
    """The validated body when `data` is canonical and valid, else None (ask DRF)."""
    if type(data) is not dict or not data.keys() <= PLACE_KEYS:
        return None
    raw_lines = data.get("lines")
    if type(raw_lines) is not list or not 1 <= len(raw_lines) <= MAX_LINES:
        return None
    lines = []
    for line in raw_lines:
        if type(line) is not dict or not line.keys() <= LINE_KEYS:
            return None
        product_id, quantity = line.get("product_id"), line.get("quantity")
        variation_id, option_ids = line.get("variation_id"), line.get("option_ids", [])
        if not (
            _id(product_id)
            and type(quantity) is int
            and MIN_QUANTITY <= quantity <= MAX_QUANTITY
            and (variation_id is None or _id(variation_id))
            and type(option_ids) is list
            and len(option_ids) <= MAX_OPTIONS
            and all(_id(option_id) for option_id in option_ids)
        ):
            return None
        lines.append(
            {
                "product_id": product_id,
                "variation_id": variation_id,
                "option_ids": list(option_ids),
                "quantity": quantity,
            }
        )
    method = data.get("payment_method")
    if type(method) is not str or not PAYMENT_TOKEN.match(method):
        return None  # missing or not a token: DRF names the field
    return {"lines": lines, "payment_method": method}


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
    cancellable_until = serializers.SerializerMethodField()
    number = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
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
            "cancellable_until",
        ]

    def get_number(self, order: Order) -> str | None:
        """The pickup number ("A-042", unique for its day), given when paid; else null."""
        return order.number or None

    def get_refunded(self, order: Order) -> bool:
        return bool(order.refund_reference)

    def get_failure_reason(self, order: Order) -> str | None:
        """Why the payment failed (the provider's words), else null."""
        return order.failure_reason or None

    def get_cancellable_until(self, order: Order) -> str | None:
        """Until when its customer may still cancel this paid order (ISO 8601), else null."""
        until = order_cancellable_until(order)
        return _DATETIME.to_representation(until) if until else None


# DRF's own ISO 8601 rendering, built once, in UTC (the site's TIME_ZONE) named here
# rather than looked up per value as the current time zone (a context-local read).
_DATETIME = serializers.DateTimeField(default_timezone=UTC)


def render_order(order: Order) -> dict[str, Any]:
    """The order as the API shows it, as plain JSON data (stored for idempotent replay).

    The same data as `OrderSerializer(order).data` (a test holds them equal), built by
    hand: it runs on every placement, where building the nested DRF serializer per
    call cost more than the rest of the rendering. Reads `order.lines` and
    `order.status_changes` (prefetched, or one query each).
    """
    return {
        "id": order.id,
        "number": order.number or None,
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
        "cancellable_until": _until(order),
    }


def _until(order: Order) -> str | None:
    until = order_cancellable_until(order)
    return _DATETIME.to_representation(until) if until else None


# ---- a manager's view of an order (issue 11) ---------------------------------------------


def _person(people: dict[int, Any], user_id: int | None) -> dict[str, Any] | None:
    """Who someone is, as Order's copy of users knows them (None: the system)."""
    if user_id is None:
        return None
    known = people.get(user_id)
    return {
        "id": user_id,
        "name": known.name if known is not None else "",
        "email": known.email if known is not None else "",
    }


def render_finding(finding: Any) -> dict[str, Any]:
    """An order as a manager sees it (`orders_search`, `order_finding`): the order as
    everyone sees it, its customer, its payment (card brand and last four, never more),
    its refunds with why and who asked, and each transition with who made it."""
    order, payment, people = finding.order, finding.payment, finding.people
    body = render_order(order)
    actors = [change.actor_id for change in order.status_changes.all()]
    for entry, actor_id in zip(body["history"], actors, strict=True):
        entry["actor"] = _person(people, actor_id)
    refunded = sum(r.amount for r in finding.refunds if r.status == "succeeded")
    body.update(
        customer=_person(people, order.customer_id),
        payment=None
        if payment is None
        else {
            "amount": payment.amount,
            "currency": payment.currency,
            "status": str(payment.status),
            "card_brand": payment.card_brand,
            "card_last4": payment.card_last4,
            "refunded_amount": refunded,
            # Not refused by the provider: what a new refund may not exceed with.
            "refundable": payment.amount - payment.refunded_amount
            if payment.status == "succeeded"
            else 0,
        },
        refunds=[
            {
                "id": refund.id,
                "amount": refund.amount,
                "status": str(refund.status),
                "reason": refund.reason,
                "requested_by": _person(people, refund.requested_by),
                "created_at": _DATETIME.to_representation(refund.created_at),
                "completed_at": _DATETIME.to_representation(refund.completed_at)
                if refund.completed_at
                else None,
            }
            for refund in finding.refunds
        ],
    )
    return body
