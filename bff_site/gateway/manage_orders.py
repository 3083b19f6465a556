"""A manager's orders (issue 11): find any order, see its payment, refunds and history,
and refund all or part of it with a reason.

- `GET /api/manage/orders?number=&email=&date=&cursor=&limit=`: newest first; Order
  checks the parameters and names a wrong one.
- `GET /api/manage/orders/<id>`
- `POST /api/manage/orders/<id>/refunds` `{amount, reason}` with an `Idempotency-Key`
  the client makes once per refund attempt: a retry with the same key and body gets the
  same refund, the same key with another body 422.

Managers only: a barista or customer is answered 403 before Order is called, and a bad
refund is refused here naming its field, so nothing reaches Order. CSRF as every unsafe
BFF endpoint (the middleware).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from bff_site.clients import order as order_client
from bff_site.gateway import serializers as shapes
from bff_site.gateway.apis import IDEMPOTENCY_KEY
from bff_site.sessions.apiview import SessionAPIView, json_object
from bff_site.sessions.authentication import Manager, SignedIn, Staff, signed_in_caller
from shared.openapi import problems
from shared.problems import InvalidInput
from shared.request_input import idempotency_key_check

REASON_MAX = 200
MAX_AMOUNT = 10_000_000  # far above any order; a bigger number is a typo, not a refund


def refund_input_check(body: dict[str, Any]) -> tuple[int, str]:
    """(amount, reason) of a refund request, or InvalidInput naming each wrong field."""
    errors: dict[str, list[str]] = {}
    amount, reason = body.get("amount"), body.get("reason")
    if isinstance(amount, bool) or not isinstance(amount, int) or not 1 <= amount <= MAX_AMOUNT:
        errors["amount"] = ["A whole number of pence, at least 1."]
    text = " ".join(reason.split()) if isinstance(reason, str) else ""
    if not 1 <= len(text) <= REASON_MAX:
        errors["reason"] = [f"Say why: 1 to {REASON_MAX} characters."]
    if errors:
        raise InvalidInput("The refund cannot be made as asked.", errors=errors)
    assert isinstance(amount, int)
    return amount, text


class OrdersSearchApi(SessionAPIView):
    permission_classes = [SignedIn, Staff, Manager]
    manager_action = "look up any order"

    @extend_schema(
        operation_id="manage_orders_list",
        summary="A manager finds any order (by pickup number, customer e-mail, shop day), "
        "newest first",
        parameters=[shapes.SearchQuerySerializer],
        responses={200: shapes.OrderSearchSerializer, **problems("400", "401", "403", "503")},
    )
    def get(self, request: Request) -> Response:
        query = {k: request.GET[k] for k in order_client.SEARCH_PARAMS if request.GET.get(k)}
        return Response(order_client.orders_search(user=signed_in_caller(request), query=query))


class ManagedOrderApi(SessionAPIView):
    permission_classes = [SignedIn, Staff, Manager]
    manager_action = "look up any order"

    @extend_schema(
        summary="Any order as a manager sees it: payment, refunds, who did what",
        responses={200: shapes.ManagedOrderSerializer, **problems("401", "403", "404", "503")},
    )
    def get(self, request: Request, order_id: int) -> Response:
        user = signed_in_caller(request)
        return Response(order_client.order_manage_get(user=user, order_id=order_id))


class OrderRefundApi(SessionAPIView):
    permission_classes = [SignedIn, Staff, Manager]
    manager_action = "refund an order"

    @extend_schema(
        summary="A manager refunds all or part of a paid order with a reason "
        "(Idempotency-Key: the same key and body give the same refund; another body 422)",
        request=shapes.RefundRequestSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: shapes.RefundedOrderSerializer,
            **problems("400", "401", "403", "404", "409", "422", "503"),
        },
    )
    def post(self, request: Request, order_id: int) -> Response:
        key = idempotency_key_check(request.headers.get("Idempotency-Key"))
        amount, reason = refund_input_check(json_object(request))
        answer = order_client.order_refund(
            user=signed_in_caller(request),
            order_id=order_id,
            amount=amount,
            reason=reason,
            idempotency_key=key,
        )
        return Response(answer, status=201)
