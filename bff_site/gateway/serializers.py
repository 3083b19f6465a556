"""The shapes of the web client's API, declared once for its OpenAPI document (/api/schema/).

The views answer the dicts `bff_site.clients.order` shapes (`order_view`, …: only named
fields pass) without running these serializers on every answer; the response shapes
here are closed (`additionalProperties: false`), and tests/bff/test_order_shape.py and
test_report.py validate real answers against the served document, so neither side can
drift. Request serializers describe bodies that the views check with their own rules
(shared/cart.py, menu_edits.py), which name each wrong field as Order would.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from bff_site.sessions.serializers import SessionUserSerializer
from shared.cart import MAX_LINES
from shared.openapi import closed

S = serializers
ORDER_STATUSES = [
    "pending_payment",
    "placed",
    "in_preparation",
    "ready",
    "collected",
    "payment_failed",
    "cancelled",
    "rejected",
    "not_collected",
    "expired",
]
QUEUE_STATUSES = ["placed", "in_preparation", "ready"]


# Requests -------------------------------------------------------------------------------


@closed
class LineSerializer(S.Serializer[Any]):
    product_id = S.IntegerField()
    variation_id = S.IntegerField(required=False, allow_null=True)
    option_ids = S.ListField(child=S.IntegerField(), required=False)
    quantity = S.IntegerField(min_value=1, max_value=20)


@closed
class CartSerializer(S.Serializer[Any]):
    lines = S.ListField(child=LineSerializer(), min_length=1, max_length=MAX_LINES)


class PlaceOrderSerializer(S.Serializer[Any]):
    lines = S.ListField(child=LineSerializer())
    payment_method = S.RegexField(
        r"^pm_[A-Za-z0-9_]{1,60}$",
        help_text="The payment provider's token for the card, never a card number",
    )
    cup_name = S.CharField(
        required=False, max_length=20, help_text="The name on the cup (optional; no line breaks)"
    )
    note = S.CharField(
        required=False, max_length=140, help_text="A note for the barista (optional)"
    )


class FavouriteRequestSerializer(S.Serializer[Any]):
    name = S.CharField(required=False, max_length=40, help_text='"My usual" (optional)')
    product_id = S.IntegerField()
    variation_id = S.IntegerField(required=False, allow_null=True)
    option_ids = S.ListField(child=S.IntegerField(), required=False)


class AdvanceSerializer(S.Serializer[Any]):
    to = S.CharField(help_text="The status to move the order to")


class RejectSerializer(S.Serializer[Any]):
    reason = S.CharField(min_length=1, max_length=200)


class RefundRequestSerializer(S.Serializer[Any]):
    amount = S.IntegerField(min_value=1, help_text="In pence; at most what is left to refund")
    reason = S.CharField(min_length=1, max_length=200)


class QueueQuerySerializer(S.Serializer[Any]):
    status = S.ChoiceField(QUEUE_STATUSES, required=False, help_text="Only this column")
    cursor = S.CharField(
        max_length=100, required=False, help_text="A column's `next_cursor` (needs `status`)"
    )
    limit = S.IntegerField(min_value=1, max_value=100, default=50, required=False)
    newest = S.IntegerField(min_value=0, max_value=50, default=5, required=False)


class ReportQuerySerializer(S.Serializer[Any]):
    date = S.DateField(
        required=False,
        help_text="The shop's local day, YYYY-MM-DD (2000-01-01 to 2999-12-31); today in "
        "the shop's time zone if absent",
    )
    top = S.IntegerField(
        min_value=1, max_value=20, default=5, required=False, help_text="How many best sellers"
    )


class SearchQuerySerializer(S.Serializer[Any]):
    number = S.CharField(
        max_length=12,
        required=False,
        help_text='A pickup number, e.g. "A-042" (any day unless `date`)',
    )
    email = S.CharField(
        max_length=254, required=False, help_text="The customer's e-mail, exactly (any case)"
    )
    date = S.DateField(required=False, help_text="The shop's day the order was placed")
    cursor = S.CharField(
        max_length=100, required=False, help_text="The previous page's `next_cursor`"
    )
    limit = S.IntegerField(min_value=1, max_value=100, default=20, required=False)


# Answers --------------------------------------------------------------------------------


@closed
class PaymentsConfigSerializer(S.Serializer[Any]):
    provider_url = S.URLField()
    publishable_key = S.CharField()


@closed
class ClientConfigSerializer(S.Serializer[Any]):
    payments = PaymentsConfigSerializer()


class MenuSerializer(S.Serializer[Any]):
    currency = S.CharField()
    categories = S.ListField(child=S.DictField(), help_text="Order's categories and products")


@closed
class PricedLineSerializer(S.Serializer[Any]):
    product_id = S.IntegerField()
    variation_id = S.IntegerField(allow_null=True)
    option_ids = S.ListField(child=S.IntegerField())
    quantity = S.IntegerField()
    unit_price = S.IntegerField()
    line_total = S.IntegerField()


@closed
class CartPriceSerializer(S.Serializer[Any]):
    currency = S.CharField()
    total = S.IntegerField()
    lines = PricedLineSerializer(many=True)


@closed
class OrderLineSerializer(S.Serializer[Any]):
    product_id = S.IntegerField(allow_null=True, help_text="null: since taken off the menu")
    variation_id = S.IntegerField(allow_null=True)
    option_ids = S.ListField(child=S.IntegerField())
    product_name = S.CharField()
    variation_name = S.CharField()
    options = S.ListField(child=S.CharField())
    quantity = S.IntegerField()
    unit_price = S.IntegerField()
    line_total = S.IntegerField()


@closed
class OrderChangeSerializer(S.Serializer[Any]):
    status = S.ChoiceField(ORDER_STATUSES)
    at = S.DateTimeField()


@closed
class OrderSerializer(S.Serializer[Any]):
    """One shape on every endpoint that answers an order"""

    id = S.IntegerField()
    number = S.CharField(
        allow_null=True,
        help_text='The pickup number ("A-042", unique for its day), given when the order '
        "is paid; null before",
    )
    status = S.ChoiceField(ORDER_STATUSES)
    status_reason = S.CharField(
        allow_null=True,
        help_text="Why the order ended in its status (rejected, cancelled, not_collected, "
        "expired), else null",
    )
    total = S.IntegerField()
    currency = S.CharField()
    created_at = S.DateTimeField()
    failure_reason = S.CharField(allow_null=True)
    lines = OrderLineSerializer(many=True)
    history = OrderChangeSerializer(many=True)
    refunded = S.BooleanField()
    cancellable_until = S.DateTimeField(
        allow_null=True, help_text="Until when the customer may cancel this paid order"
    )
    cup_name = S.CharField(allow_blank=True, help_text='The name on the cup ("" if none)')
    note = S.CharField(allow_blank=True, help_text='A note for the barista ("" if none)')


@closed
class FavouriteSerializer(S.Serializer[Any]):
    """A saved drink ("my usual"): a cart line without a quantity, and its name"""

    id = S.IntegerField()
    name = S.CharField(allow_blank=True)
    product_id = S.IntegerField()
    variation_id = S.IntegerField(allow_null=True)
    option_ids = S.ListField(child=S.IntegerField())


@closed
class FavouriteListSerializer(S.Serializer[Any]):
    results = FavouriteSerializer(many=True)


@closed
class OrderListSerializer(S.Serializer[Any]):
    results = OrderSerializer(many=True)


@closed
class ProfileSerializer(S.Serializer[Any]):
    user = SessionUserSerializer(help_text="Me as Identity knows me now")
    order_count = S.IntegerField()
    last_order = OrderSerializer(allow_null=True)


@closed
class QueueColumnSerializer(S.Serializer[Any]):
    status = S.ChoiceField(QUEUE_STATUSES)
    count = S.IntegerField(min_value=0)
    results = OrderSerializer(many=True, help_text="A page of the column, oldest first")
    next_cursor = S.CharField(
        allow_null=True, help_text="Pass as `cursor` (with `status`) for the next page; null: last"
    )
    newest = OrderSerializer(many=True, help_text="The column's latest arrivals, newest first")


@closed
class QueueCountsSerializer(S.Serializer[Any]):
    placed = S.IntegerField()
    in_preparation = S.IntegerField()
    ready = S.IntegerField()


@closed
class QueueSerializer(S.Serializer[Any]):
    counts = QueueCountsSerializer()
    columns = QueueColumnSerializer(many=True)


@closed
class BestSellerSerializer(S.Serializer[Any]):
    product_id = S.IntegerField(allow_null=True)
    name = S.CharField()
    quantity = S.IntegerField(min_value=1)
    revenue = S.IntegerField()


@closed
class DayReportSerializer(S.Serializer[Any]):
    """A manager's report of the shop's local day. Amounts are integers in the smallest
    unit of `currency`; only orders in the shop's currency count."""

    date = S.DateField(help_text="The local day")
    time_zone = S.CharField(help_text="The shop's time zone")
    currency = S.CharField()
    orders = S.IntegerField(
        min_value=0,
        help_text="Orders whose payment was captured this day, including those cancelled "
        "or rejected later; unpaid, failed and expired ones never",
    )
    gross = S.IntegerField(help_text="The sum of those orders' totals")
    refunds = S.IntegerField(
        help_text="Refunds completed at the provider this day, whichever day their order "
        "was paid (requested or failed ones do not count)"
    )
    takings = S.IntegerField(help_text="gross - refunds (negative on a day of refunds only)")
    orders_per_hour = S.ListField(
        child=S.IntegerField(min_value=0),
        min_length=24,
        max_length=24,
        help_text="`orders` by local hour of payment, 00:00-00:59 first",
    )
    best_sellers = BestSellerSerializer(
        many=True,
        help_text="Products by quantity sold this day (cancelled and rejected orders left "
        "out), most first",
    )


@closed
class PersonSerializer(S.Serializer[Any]):
    """Someone as Order's copy of users knows them"""

    id = S.CharField()
    name = S.CharField()
    email = S.CharField()


@closed
class PaymentSerializer(S.Serializer[Any]):
    """The charge; card brand and last four only"""

    amount = S.IntegerField()
    currency = S.CharField()
    status = S.ChoiceField(["requested", "succeeded", "failed", "cancelled"])
    card_brand = S.CharField()
    card_last4 = S.CharField()
    refunded_amount = S.IntegerField(help_text="Refunds the provider confirmed")
    refundable = S.IntegerField(help_text="What a new refund may be at most")


@closed
class RefundSerializer(S.Serializer[Any]):
    id = S.IntegerField()
    amount = S.IntegerField()
    status = S.ChoiceField(["requested", "succeeded", "failed"])
    reason = S.CharField()
    requested_by = PersonSerializer(allow_null=True, help_text="null: the system")
    created_at = S.DateTimeField()
    completed_at = S.DateTimeField(allow_null=True)


@closed
class ManagedChangeSerializer(S.Serializer[Any]):
    status = S.ChoiceField(ORDER_STATUSES)
    at = S.DateTimeField()
    actor = PersonSerializer(allow_null=True, help_text="null: the system")
    note = S.CharField()


@closed
class ManagedOrderSerializer(S.Serializer[Any]):
    """An order as a manager sees it"""

    order = OrderSerializer()
    customer = PersonSerializer(allow_null=True)
    payment = PaymentSerializer(allow_null=True, help_text="null: never charged")
    refunds = RefundSerializer(many=True)
    history = ManagedChangeSerializer(
        many=True, help_text="Every transition: to which status, when, who, why"
    )


@closed
class RefundedOrderSerializer(ManagedOrderSerializer):
    """The refund is requested; the order as it stands now"""

    refund_id = S.IntegerField()


@closed
class OrderSearchSerializer(S.Serializer[Any]):
    results = ManagedOrderSerializer(many=True)
    next_cursor = S.CharField(allow_null=True)
