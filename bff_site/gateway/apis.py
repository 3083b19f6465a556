"""The web client's API (docs/bff-api.md): thin views over the Order client.

Every view answers JSON or problem details; the acting user comes from the
server-side session, never from the browser.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET, require_POST

from bff_site.clients import order as order_client
from bff_site.gateway import selectors, streams
from bff_site.sessions.services import TOKENS_KEY, session_user
from shared.cart import CartInvalid
from shared.problems import DomainError, InvalidInput, from_domain_error, problem
from shared.request_input import idempotency_key_check, json_body_read

View = Callable[..., HttpResponseBase]
STAFF_ROLES = {"barista", "manager"}
QUEUE_PARAMS = ("status", "cursor", "limit", "newest")


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


@require_GET
@api(signed_in=False)
def client_config(request: HttpRequest, user: dict[str, Any] | None) -> HttpResponse:
    """What the web client needs to take a card: the payment provider's public URL and
    publishable key (Stripe.js style; docs/decisions.md "Card data"). Public by design."""
    return JsonResponse(
        {
            "payments": {
                "provider_url": settings.PAYMENT_PROVIDER_PUBLIC_URL,
                "publishable_key": settings.PAYMENT_PUBLISHABLE_KEY,
            }
        }
    )


@require_POST
@api(signed_in=False)
def cart_price(request: HttpRequest, user: dict[str, Any] | None) -> HttpResponse:
    if request.content_type != "application/json":
        response = problem(
            415,
            "Unsupported media type",
            "Send the cart as application/json.",
            slug="unsupported-media-type",
        )
        response["Accept-Post"] = "application/json"
        return response
    body = _json_body(request)
    try:
        return JsonResponse(selectors.cart_price(body=body))
    except CartInvalid as exc:
        raise InvalidInput(exc.detail, errors=exc.errors) from None


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
    # `api` has just refreshed the session's tokens if they were about to expire.
    access_token = str((request.session.get(TOKENS_KEY) or {}).get("access_token", ""))
    return JsonResponse(selectors.profile(user=user, access_token=access_token))


@require_GET
@api(staff=True)
def staff_queue(request: HttpRequest, user: dict[str, Any]) -> HttpResponse:
    # Order validates the parameters and names a bad one (400 passes through).
    query = {k: request.GET[k] for k in QUEUE_PARAMS if k in request.GET}
    return JsonResponse(order_client.staff_queue(user=user, query=query))


@require_POST
@api(staff=True)
def staff_advance(request: HttpRequest, user: dict[str, Any], order_id: int) -> HttpResponse:
    to = _json_body(request).get("to")
    if not isinstance(to, str):
        raise InvalidInput("Say which status to move to.", errors={"to": ["required"]})
    return JsonResponse(order_client.order_advance(user=user, order_id=order_id, to=to))


@require_POST
@api(staff=True)
def staff_reject(request: HttpRequest, user: dict[str, Any], order_id: int) -> HttpResponse:
    """Reject a paid order with a reason; Order refunds it in full and tells the customer."""
    reason = _json_body(request).get("reason")
    if not isinstance(reason, str):
        raise InvalidInput("Say why the order is rejected.", errors={"reason": ["required"]})
    return JsonResponse(order_client.order_reject(user=user, order_id=order_id, reason=reason))


def _stream_reader(request: HttpRequest) -> tuple[dict[str, Any] | None, str | None]:
    """The signed-in user and the Redis key of their session (to notice a sign-out)."""
    user = session_user(session=request.session)
    if user is None or not request.session.session_key:
        return None, None
    return user, cache.make_key(request.session.cache_key)  # type: ignore[attr-defined]


@require_GET
async def events(request: HttpRequest) -> HttpResponseBase:
    """Server-sent events with my orders' status changes (staff: every order), each with
    an `id:`; reconnecting with `Last-Event-ID` replays what was missed, or sends
    `event: resync` when that is too old to replay (docs/bff-api.md)."""
    last_event_id = request.headers.get("Last-Event-ID")
    try:
        if last_event_id is not None:
            streams.parse_id(last_event_id)
        user, session_key = await sync_to_async(_stream_reader)(request)
    except streams.BadEventId:
        return from_domain_error(
            InvalidInput(
                "Last-Event-ID is not an event id this stream sent.",
                errors={"Last-Event-ID": ["not an event id"]},
            )
        )
    except DomainError as exc:
        return from_domain_error(exc)
    if user is None:
        return problem(401, "Sign-in required", "Sign in to continue.", slug="unauthenticated")
    response = StreamingHttpResponse(
        streams.events_stream(user=user, last_event_id=last_event_id, session_key=session_key),
        content_type="text/event-stream",
    )
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"
    return response


def order_list_or_place(request: HttpRequest) -> HttpResponseBase:
    """`GET /api/orders` lists mine; `POST /api/orders` places one."""
    if request.method == "POST":
        return order_place(request)
    return order_list(request)
