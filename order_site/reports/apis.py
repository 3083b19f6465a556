"""`GET /api/orders/report/`: a manager's day report (selectors.py says what counts)."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from order_site.orders.apis import ERRORS
from order_site.reports import selectors
from order_site.users.permissions import IsManager

# Days a report can be asked for: wide enough for any shop, narrow enough that a day's
# bounds in any time zone stay inside what Python and PostgreSQL can hold.
FIRST_DAY, LAST_DAY = datetime.date(2000, 1, 1), datetime.date(2999, 12, 31)
MAX_BEST_SELLERS = 20


class ReportQuerySerializer(serializers.Serializer):
    date = serializers.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        help_text="The shop's local day (YYYY-MM-DD); today in the shop's time zone if absent.",
    )
    top = serializers.IntegerField(
        min_value=1,
        max_value=MAX_BEST_SELLERS,
        default=selectors.BEST_SELLERS,
        help_text="How many best sellers.",
    )

    def validate_date(self, value: datetime.date) -> datetime.date:
        if not FIRST_DAY <= value <= LAST_DAY:
            raise serializers.ValidationError(f"Must be between {FIRST_DAY} and {LAST_DAY}.")
        return value


class BestSellerSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(
        allow_null=True, help_text="Null when the product has since left the menu."
    )
    name = serializers.CharField(help_text="The product's name as it was sold.")
    quantity = serializers.IntegerField(help_text="Items sold.")
    revenue = serializers.IntegerField(help_text="Their line totals, smallest currency unit.")


class DayReportSerializer(serializers.Serializer):
    date = serializers.DateField(source="day", help_text="The shop's local day reported.")
    time_zone = serializers.CharField(help_text="The shop's time zone (settings.TIME_ZONE).")
    currency = serializers.CharField(help_text="ISO 4217; every amount is in its smallest unit.")
    orders = serializers.IntegerField(
        help_text="Orders whose payment was captured this day (by `paid_at`), including "
        "those cancelled or rejected later; unpaid, failed and expired orders never count."
    )
    gross = serializers.IntegerField(help_text="The sum of those orders' totals.")
    refunds = serializers.IntegerField(
        help_text="Refunds completed at the payment provider this day, whichever day their "
        "order was paid; requested or failed refunds do not count."
    )
    takings = serializers.IntegerField(
        help_text="gross - refunds: what the shop kept this day (negative if refunds exceed)."
    )
    orders_per_hour = serializers.ListField(
        child=serializers.IntegerField(min_value=0),
        min_length=24,
        max_length=24,
        help_text="`orders` by the local hour of payment, 00:00-00:59 first.",
    )
    best_sellers = BestSellerSerializer(
        many=True,
        help_text="Products by quantity sold in this day's paid orders (cancelled and "
        "rejected ones left out), most first; ties by revenue, then name.",
    )


class OrderReportApi(APIView):
    """A manager's report of one day: takings, orders per hour, best sellers."""

    permission_classes = [IsManager]

    @extend_schema(
        operation_id="orders_report",
        parameters=[ReportQuerySerializer],
        responses={200: DayReportSerializer, **ERRORS},
        description="Only orders in the shop's currency count. Amounts are integers in "
        "the smallest currency unit. A bad `date` is a 400 problem naming `date`.",
    )
    def get(self, request: Request) -> Response:
        query = ReportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params: dict[str, Any] = query.validated_data
        report = selectors.order_day_report(
            day=params.get("date") or timezone.localdate(), best_sellers=params["top"]
        )
        return Response(DayReportSerializer(report).data)
