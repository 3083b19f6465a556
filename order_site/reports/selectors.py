"""The day report, from three aggregate queries (no loop over a day's orders in Python).

What counts (the same words are in the API's schema):

- a day is the shop's local calendar day (settings.TIME_ZONE), midnight to midnight;
- `orders`: orders whose payment was captured that day (`paid_at`), whatever happened
  to them next (a paid order cancelled or rejected later still counts here);
  unpaid, failed and expired orders never count;
- `gross`: the sum of those orders' totals;
- `refunds`: refunds completed at the provider that day (whatever day their order was
  paid), of orders that were paid; requested or failed refunds do not count;
- `takings` = `gross` - `refunds` (it can be negative on a day of refunds only);
- `orders_per_hour`: those orders by the local hour of `paid_at` (24 buckets; on a
  daylight-saving change the repeated hour falls in one bucket);
- `best_sellers`: products by quantity sold in those orders, leaving out the ones
  cancelled or rejected (given back in full), with what they brought in.

Only orders in the shop's currency (the menu's) are counted, so sums never mix currencies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Sum
from django.db.models.functions import ExtractHour

from order_site.menu.models import DEFAULT_CURRENCY
from order_site.orders.models import Order, OrderLine, OrderStatus
from order_site.payments.models import PaymentStatus, Refund

BEST_SELLERS = 5
# Given back in full: their lines were not sold.
GIVEN_BACK = (OrderStatus.CANCELLED, OrderStatus.REJECTED)


@dataclass(frozen=True)
class BestSeller:
    product_id: int | None  # None: the product was deleted from the menu since
    name: str  # as it was sold (the order line's snapshot)
    quantity: int
    revenue: int  # smallest currency unit


@dataclass(frozen=True)
class DayReport:
    day: date
    time_zone: str
    currency: str
    orders: int
    gross: int
    refunds: int
    takings: int
    orders_per_hour: list[int]
    best_sellers: list[BestSeller]


def shop_time_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of `day` in `zone`, as aware datetimes (23 or 25 hours on a DST change)."""
    return (
        datetime.combine(day, time.min, tzinfo=zone),
        datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone),
    )


def order_day_report(*, day: date, best_sellers: int = BEST_SELLERS) -> DayReport:
    """The report of the shop's local `day` (module docstring: what counts)."""
    zone = shop_time_zone()
    start, end = day_bounds(day, zone)
    currency = DEFAULT_CURRENCY
    # Served by the `orders_paid_at` index: one day's rows, however long the history.
    paid = Order.objects.filter(paid_at__gte=start, paid_at__lt=end, currency=currency)

    per_hour = [0] * 24
    gross = 0
    rows = (
        paid.order_by()
        .annotate(hour=ExtractHour("paid_at", tzinfo=zone))
        .values("hour")
        .annotate(n=Count("id"), total=Sum("total"))
    )
    for row in rows:  # at most 24 rows
        per_hour[int(row["hour"])] += int(row["n"])
        gross += int(row["total"])

    refunded = (
        Refund.objects.filter(
            status=PaymentStatus.SUCCEEDED,
            completed_at__gte=start,
            completed_at__lt=end,
            payment__currency=currency,
            # A charge that landed after its order was cancelled is refunded at once and was
            # never counted as paid: its refund is not taken off either.
            order_id__in=Order.objects.filter(paid_at__isnull=False).values("id"),
        ).aggregate(total=Sum("amount"))["total"]
        or 0
    )

    sellers = (
        OrderLine.objects.filter(order__in=paid.exclude(status__in=GIVEN_BACK))
        .order_by()
        .values("product_id", "product_name")
        .annotate(quantity=Sum("quantity"), revenue=Sum("line_total"))
        .order_by("-quantity", "-revenue", "product_name")[:best_sellers]
    )
    return DayReport(
        day=day,
        time_zone=str(settings.TIME_ZONE),
        currency=currency,
        orders=sum(per_hour),
        gross=gross,
        refunds=int(refunded),
        takings=gross - int(refunded),
        orders_per_hour=per_hour,
        best_sellers=[
            BestSeller(
                product_id=row["product_id"],
                name=row["product_name"],
                quantity=int(row["quantity"]),
                revenue=int(row["revenue"]),
            )
            for row in sellers
        ],
    )
