"""Request and response shapes of the orders API (they also describe it in OpenAPI)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from django.core.validators import RegexValidator
from rest_framework import serializers

from order_site.orders.models import (
    CUP_NAME_MAX,
    FAVOURITE_NAME_MAX,
    NOTE_MAX,
    Favourite,
    Order,
    OrderLine,
    OrderStatus,
    OrderStatusChange,
)
from order_site.orders.selectors import order_cancellable_until
from order_site.orders.services import ADVANCE_TARGETS
from order_site.payments.services import PAYMENT_TOKEN, PAYMENT_TOKEN_HELP
from shared.cart import EMPTY_MESSAGE, LINES_CAP_MESSAGE, MAX_LINES, MAX_OPTIONS, errors_flatten
from shared.fast_serializers import reader, renderer
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


# A control character (a line break, a tab, an escape …) has no place on a cup or a
# queue card: refused, never stripped silently.
NO_CONTROL_CHARACTERS = RegexValidator(
    r"^[^\x00-\x1f\x7f-\x9f]*$", "No line breaks or control characters.", code="control"
)


def _short_text(limit: int, what: str) -> serializers.CharField:
    """An optional line of text: trimmed, at most `limit` characters, "" when absent."""
    return serializers.CharField(
        max_length=limit,
        required=False,
        default="",
        allow_blank=True,
        validators=[NO_CONTROL_CHARACTERS],
        help_text=f"{what}; optional, at most {limit} characters, no control characters",
    )


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
    cup_name = _short_text(CUP_NAME_MAX, "The name written on the cup")
    note = _short_text(NOTE_MAX, "A note for the barista")


# The placement's body is checked by a reader compiled from the serializer (shared/
# fast_serializers.py): a canonical body directly, anything else by DRF itself.
_place_order_input_canonical = reader(PlaceOrderInputSerializer())


def place_order_input(data: Any) -> dict[str, Any]:
    """The validated body of a placement, as `PlaceOrderInputSerializer` gives it.

    A body in the serializer's canonical form (JSON integers, no unknown keys, no
    whitespace to trim) is checked by the reader compiled from it; anything else,
    every error included, by the serializer, which names the fields flat
    (`lines[0].quantity`) in the words the BFF's preview uses (shared/cart.py). Raises
    ValidationError.
    """
    fast = _place_order_input_canonical(data)
    if fast is not None:
        return fast
    serializer = PlaceOrderInputSerializer(data=data)
    if not serializer.is_valid():
        raise serializers.ValidationError(errors_flatten(serializer.errors))
    return dict(serializer.validated_data)


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
            "cup_name",
            "note",
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


class FavouriteInputSerializer(serializers.Serializer):
    """A drink to save as a favourite: what a cart line names, without a quantity."""

    name = serializers.CharField(
        max_length=FAVOURITE_NAME_MAX,
        required=False,
        default="",
        allow_blank=True,
        validators=[NO_CONTROL_CHARACTERS],
    )
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


class FavouriteSerializer(serializers.ModelSerializer):
    option_ids = serializers.ListField(child=serializers.IntegerField())

    class Meta:
        model = Favourite
        fields = ["id", "name", "product_id", "variation_id", "option_ids", "created_at"]


# DRF's own ISO 8601 rendering, built once, in UTC (the site's TIME_ZONE) named here
# rather than looked up per value as the current time zone (a context-local read).
_DATETIME = serializers.DateTimeField(default_timezone=UTC)


_render_order = renderer(OrderSerializer())


def render_order(order: Order) -> dict[str, Any]:
    """The order as the API shows it (`OrderSerializer`, through the renderer compiled
    from it: it runs on every placement), as plain JSON data, stored for idempotent
    replay. Reads `order.lines` and `order.status_changes` (prefetched, or one query each).
    """
    return _render_order(order)


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
