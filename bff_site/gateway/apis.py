"""The web client's API (docs/bff-api.md): thin views over the Order client.

Every view answers JSON or problem details; the acting user comes from the
server-side session, never from the browser.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET, require_POST

from bff_site.clients import order as order_client
from bff_site.gateway import live, selectors
from bff_site.sessions.services import session_user
from shared.pricing import PricingError
from shared.problems import DomainError, InvalidInput, from_domain_error, problem
from shared.request_input import idempotency_key_check, json_body_read

View = Callable[..., HttpResponseBase]
STAFF_ROLES = {"barista", "manager"}


def _json_body(request: HttpRequest) -> dict[str, Any]:
    body = json_body_read(request, empty={})  # 413 / 400 naming the fault (too big, too deep…)
    if not isinstance(body, dict):
        raise InvalidInput("The body must be a JSON object.")
    return body


def api(*, signed_in: bool = True, staff: bool = False) -> Callable[[View], View]:
    """Authenticate from the session, and turn domain errors into problem details."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            try:
                user = session_user(session=request.session)
                if signed_in and user is None:
                    return problem(
                        401, "Sign-in required", "Sign in to continue.", slug="unauthenticated"
                    )
                if staff and not STAFF_ROLES & set((user or {}).get("roles", [])):
                    return problem(403, "Forbidden", "Only staff can do this.", slug="forbidden")
                return view(request, user, *args, **kwargs)
            except DomainError as exc:
                return from_domain_error(exc)

        return wrapper

    return decorate


@require_GET
@api(signed_in=False)
def menu(request: HttpRequest, user: dict[str, Any] | None) -> HttpResponse:
    data, stale = selectors.menu()
    response = JsonResponse(data)
    if stale:
        response["Warning"] = '110 - "Response is stale: Order is unavailable"'
    return response


@require_POST
@api(signed_in=False)
def cart_price(request: HttpRequest, user: dict[str, Any] | None) -> HttpResponse:
    body = _json_body(request)
    try:
        return JsonResponse(selectors.cart_price(lines=body.get("lines")))
    except PricingError as exc:
        raise InvalidInput(str(exc), errors={"lines": [str(exc)]}) from None


@require_POST
@api()
def order_place(request: HttpRequest, user: dict[str, Any]) -> HttpResponse:
    key = idempotency_key_check(request.headers.get("Idempotency-Key"))
    status, data = order_client.order_place(
        user=user, body=_json_body(request), idempotency_key=key
    )
    return JsonResponse(data, status=status)


@require_GET
@api()
def order_list(request: HttpRequest, user: dict[str, Any]) -> HttpResponse:
    return JsonResponse({"results": order_client.order_list(user=user)})


@require_GET
@api()
def order_detail(request: HttpRequest, user: dict[str, Any], order_id: int) -> HttpResponse:
    return JsonResponse(order_client.order_get(user=user, order_id=order_id))


@require_POST
@api()
def order_cancel(request: HttpRequest, user: dict[str, Any], order_id: int) -> HttpResponse:
    return JsonResponse(order_client.order_cancel(user=user, order_id=order_id))


@require_GET
@api()
def profile(request: HttpRequest, user: dict[str, Any]) -> HttpResponse:
    return JsonResponse(selectors.profile(user=user))


@require_GET
@api(staff=True)
def staff_queue(request: HttpRequest, user: dict[str, Any]) -> HttpResponse:
    return JsonResponse({"results": order_client.staff_queue(user=user)})


@require_POST
@api(staff=True)
def staff_advance(request: HttpRequest, user: dict[str, Any], order_id: int) -> HttpResponse:
    to = _json_body(request).get("to")
    if not isinstance(to, str):
        raise InvalidInput("Say which status to move to.", errors={"to": ["required"]})
    return JsonResponse(order_client.order_advance(user=user, order_id=order_id, to=to))


@require_GET
@api()
def events(request: HttpRequest, user: dict[str, Any]) -> StreamingHttpResponse:
    """Server-sent events with my orders' status changes (staff: every order)."""
    response = StreamingHttpResponse(live.stream(user), content_type="text/event-stream")
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"
    return response


def order_list_or_place(request: HttpRequest) -> HttpResponseBase:
    """`GET /api/orders` lists mine; `POST /api/orders` places one."""
    if request.method == "POST":
        return order_place(request)
    return order_list(request)
