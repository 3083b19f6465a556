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

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from bff_site.clients import order as order_client
from bff_site.gateway.apis import _json_body, api
from shared.problems import DomainError, InvalidInput
from shared.request_input import idempotency_key_check

REASON_MAX = 200
MAX_AMOUNT = 10_000_000  # far above any order; a bigger number is a typo, not a refund


class ManagersOnly(DomainError):
    status, slug, title = 403, "forbidden", "Forbidden"


def _manager(user: dict[str, Any], what: str) -> None:
    if "manager" not in user.get("roles", []):
        raise ManagersOnly(f"Only a manager can {what}.")


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


@require_GET
@api(staff=True)
def orders_search(request: HttpRequest, user: dict[str, Any]) -> HttpResponse:
    _manager(user, "look up any order")
    query = {k: request.GET[k] for k in order_client.SEARCH_PARAMS if request.GET.get(k)}
    return JsonResponse(order_client.orders_search(user=user, query=query))


@require_GET
@api(staff=True)
def order_detail(request: HttpRequest, user: dict[str, Any], order_id: int) -> HttpResponse:
    _manager(user, "look up any order")
    return JsonResponse(order_client.order_manage_get(user=user, order_id=order_id))


@require_POST
@api(staff=True)
def order_refund(request: HttpRequest, user: dict[str, Any], order_id: int) -> HttpResponse:
    _manager(user, "refund an order")
    key = idempotency_key_check(request.headers.get("Idempotency-Key"))
    amount, reason = refund_input_check(_json_body(request))
    answer = order_client.order_refund(
        user=user, order_id=order_id, amount=amount, reason=reason, idempotency_key=key
    )
    return JsonResponse(answer, status=201)
