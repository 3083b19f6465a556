"""A manager's day report (`GET /api/manage/report?date=YYYY-MM-DD&top=N`).

Managers only: a barista or customer is answered 403 before Order is asked. Order
validates `date` and `top` and names a bad one (its 400 passes through), and counts
(docs/bff-api.md says what). Not cached: a manager pressing Refresh after a sale
expects to see it, and Order answers from three indexed aggregate queries.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from bff_site.clients import order as order_client
from bff_site.gateway import serializers as shapes
from bff_site.sessions.apiview import SessionAPIView
from bff_site.sessions.authentication import Manager, SignedIn, Staff, signed_in_caller
from shared.openapi import problems

REPORT_PARAMS = ("date", "top")


class DayReportApi(SessionAPIView):
    permission_classes = [SignedIn, Staff, Manager]
    manager_action = "see the day's takings"

    @extend_schema(
        summary="A manager's day report: takings, orders per hour, best sellers (not cached)",
        parameters=[shapes.ReportQuerySerializer],
        responses={200: shapes.DayReportSerializer, **problems("400", "401", "403", "503")},
    )
    def get(self, request: Request) -> Response:
        query = {k: request.GET[k] for k in REPORT_PARAMS if k in request.GET}
        response = Response(order_client.order_report(user=signed_in_caller(request), query=query))
        response["Cache-Control"] = "no-store"
        return response
