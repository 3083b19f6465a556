"""The web client's API (docs/bff-api.md): thin DRF views over the Order client.

Every view answers JSON or problem details; the acting user comes from the
server-side session, never from the browser (bff_site/sessions/authentication.py).
The OpenAPI document at /api/schema/ is generated from these views; the event
stream stays a plain async Django view (DRF views are sync) and is added to the
document by `events_documented`.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from bff_site.clients import order as order_client
from bff_site.gateway import selectors, streams
from bff_site.gateway import serializers as shapes
from bff_site.sessions.apiview import SessionAPIView, json_object
from bff_site.sessions.authentication import Public, SignedIn, Staff, signed_in_caller
from bff_site.sessions.services import TOKENS_KEY, session_user
from shared.cart import CartInvalid
from shared.openapi import problems
from shared.problems import DomainError, InvalidInput, from_domain_error, problem
from shared.request_input import idempotency_key_check

QUEUE_PARAMS = ("status", "cursor", "limit", "newest")
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=True,
    description="One per attempt: a retry with the same key replays the first answer",
)


class MenuApi(SessionAPIView):
    permission_classes = [Public]

    @extend_schema(
        summary="The menu (cached; stale while Order is down)",
        responses={200: shapes.MenuSerializer, **problems("503")},
    )
    def get(self, request: Request) -> HttpResponse:
        body, stale = selectors.menu_json()
        # Cached as the JSON it is sent as: no renderer (what Response(data) would give).
        response = HttpResponse(body, content_type="application/json")
        if stale:
            response["Warning"] = '110 - "Response is stale: Order is unavailable"'
        return response


class ClientConfigApi(SessionAPIView):
    """What the web client needs to take a card: the payment provider's public URL and
    publishable key (Stripe.js style; docs/decisions.md "Card data"). Public by design."""

    permission_classes = [Public]

    @extend_schema(
        summary="Where the browser tokenizes cards: the payment provider's URL and publishable key",
        responses={200: shapes.ClientConfigSerializer},
    )
    def get(self, request: Request) -> Response:
        return Response(
            {
                "payments": {
                    "provider_url": settings.PAYMENT_PROVIDER_PUBLIC_URL,
                    "publishable_key": settings.PAYMENT_PUBLISHABLE_KEY,
                }
            }
        )


class CartPriceApi(SessionAPIView):
    permission_classes = [Public]

    @extend_schema(
        summary="Price a cart (the rules and caps of placement, shared/cart.py)",
        request=shapes.CartSerializer,
        responses={
            200: shapes.CartPriceSerializer,
            **problems("400", "403", "413", "415", "503"),
        },
    )
    def post(self, request: Request) -> Response:
        if request.content_type.split(";")[0].strip() != "application/json":
            response = problem(
                415,
                "Unsupported media type",
                "Send the cart as application/json.",
                slug="unsupported-media-type",
            )
            response["Accept-Post"] = "application/json"
            return response  # type: ignore[return-value]
        try:
            return Response(selectors.cart_price(body=json_object(request)))
        except CartInvalid as exc:
            raise InvalidInput(exc.detail, errors=exc.errors) from None


class OrdersApi(SessionAPIView):
    """`GET /api/orders` lists mine; `POST /api/orders` places one."""

    @extend_schema(
        operation_id="orders_list",
        summary="My orders, newest first",
        responses={200: shapes.OrderListSerializer, **problems("401", "503")},
    )
    def get(self, request: Request) -> Response:
        return Response({"results": order_client.order_list(user=signed_in_caller(request))})

    @extend_schema(
        summary="Place an order (Idempotency-Key replays)",
        request=shapes.PlaceOrderSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: shapes.OrderSerializer,
            **problems("400", "401", "403", "413", "422", "429", "503"),
        },
    )
    def post(self, request: Request) -> Response:
        key = idempotency_key_check(request.headers.get("Idempotency-Key"))
        status, data = order_client.order_place(
            user=signed_in_caller(request), body=json_object(request), idempotency_key=key
        )
        return Response(data, status=status)


class FavouritesApi(SessionAPIView):
    """`GET /api/favourites` lists my saved drinks; `POST` saves one ("my usual")."""

    @extend_schema(
        operation_id="favourites_list",
        summary="My favourites, oldest first",
        responses={200: shapes.FavouriteListSerializer, **problems("401", "503")},
    )
    def get(self, request: Request) -> Response:
        return Response({"results": order_client.favourites(user=signed_in_caller(request))})

    @extend_schema(
        operation_id="favourites_save",
        summary="Save a drink as a favourite (the same drink again: 200, renamed)",
        request=shapes.FavouriteRequestSerializer,
        responses={
            201: shapes.FavouriteSerializer,
            200: shapes.FavouriteSerializer,
            **problems("400", "401", "403", "409", "413", "503"),
        },
    )
    def post(self, request: Request) -> Response:
        # Order checks the drink against the menu and names a wrong field (400 passes).
        status, data = order_client.favourite_save(
            user=signed_in_caller(request), body=json_object(request)
        )
        return Response(data, status=status)


class FavouriteApi(SessionAPIView):
    http_method_names = ["delete"]

    @extend_schema(
        operation_id="favourites_delete",
        summary="Remove one of my favourites",
        responses={204: None, **problems("401", "403", "404", "503")},
    )
    def delete(self, request: Request, favourite_id: int) -> Response:
        order_client.favourite_delete(user=signed_in_caller(request), favourite_id=favourite_id)
        return Response(status=204)


class OrderApi(SessionAPIView):
    @extend_schema(
        summary="One of my orders",
        responses={200: shapes.OrderSerializer, **problems("401", "404", "503")},
    )
    def get(self, request: Request, order_id: int) -> Response:
        return Response(order_client.order_get(user=signed_in_caller(request), order_id=order_id))


class OrderCancelApi(SessionAPIView):
    @extend_schema(
        summary="Cancel (refunds when paid)",
        request=None,
        responses={200: shapes.OrderSerializer, **problems("401", "403", "404", "409", "503")},
    )
    def post(self, request: Request, order_id: int) -> Response:
        user = signed_in_caller(request)
        return Response(order_client.order_cancel(user=user, order_id=order_id))


class ProfileApi(SessionAPIView):
    @extend_schema(
        summary="Me as Identity knows me now, and my orders",
        responses={200: shapes.ProfileSerializer, **problems("401", "503")},
    )
    def get(self, request: Request) -> Response:
        # Authentication has just refreshed the session's tokens if they were about to expire.
        access_token = str((request.session.get(TOKENS_KEY) or {}).get("access_token", ""))
        user = signed_in_caller(request)
        return Response(selectors.profile(user=user, access_token=access_token))


class StaffQueueApi(SessionAPIView):
    permission_classes = [SignedIn, Staff]

    @extend_schema(
        summary="The barista queue by column: counts, a page oldest first, the newest arrivals",
        parameters=[shapes.QueueQuerySerializer],
        responses={200: shapes.QueueSerializer, **problems("400", "401", "403", "503")},
    )
    def get(self, request: Request) -> Response:
        # Order validates the parameters and names a bad one (400 passes through).
        query = {k: request.GET[k] for k in QUEUE_PARAMS if k in request.GET}
        return Response(order_client.staff_queue(user=signed_in_caller(request), query=query))


class StaffAdvanceApi(SessionAPIView):
    permission_classes = [SignedIn, Staff]

    @extend_schema(
        summary="Move an order on",
        request=shapes.AdvanceSerializer,
        responses={
            200: shapes.OrderSerializer,
            **problems("400", "401", "403", "404", "409", "503"),
        },
    )
    def post(self, request: Request, order_id: int) -> Response:
        to = json_object(request).get("to")
        if not isinstance(to, str):
            raise InvalidInput("Say which status to move to.", errors={"to": ["required"]})
        user = signed_in_caller(request)
        return Response(order_client.order_advance(user=user, order_id=order_id, to=to))


class StaffRejectApi(SessionAPIView):
    """Reject a paid order with a reason; Order refunds it in full and tells the customer."""

    permission_classes = [SignedIn, Staff]

    @extend_schema(
        summary="Reject a paid order with a reason (refunded in full)",
        request=shapes.RejectSerializer,
        responses={
            200: shapes.OrderSerializer,
            **problems("400", "401", "403", "404", "409", "503"),
        },
    )
    def post(self, request: Request, order_id: int) -> Response:
        reason = json_object(request).get("reason")
        if not isinstance(reason, str):
            raise InvalidInput("Say why the order is rejected.", errors={"reason": ["required"]})
        user = signed_in_caller(request)
        return Response(order_client.order_reject(user=user, order_id=order_id, reason=reason))


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


# /api/events in the OpenAPI document (a plain async view: drf-spectacular sees only DRF's).
EVENTS_OPERATION = {
    "operationId": "api_events_retrieve",
    "summary": "Live order status (server-sent events)",
    "description": "My orders' status changes (staff: every order), each with an `id:`; "
    "reconnecting with `Last-Event-ID` replays what was missed, or sends `event: resync` "
    "when that is too old to replay.",
    "tags": ["events"],
    "parameters": [
        {
            "name": "Last-Event-ID",
            "in": "header",
            "required": False,
            "schema": {"type": "string"},
            "description": "The `id:` of the last event received",
        }
    ],
    "security": [{"session": []}],
    "responses": {
        "200": {
            "description": "An event stream (text/event-stream)",
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
        **{
            code: {
                "description": text,
                "content": {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                },
            }
            for code, text in (
                ("400", "Last-Event-ID is not one this stream sent"),
                ("401", "Sign-in required"),
            )
        },
    },
}


def events_documented(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """SPECTACULAR_SETTINGS POSTPROCESSING_HOOKS entry: add GET /api/events."""
    result.setdefault("paths", {})["/api/events"] = {"get": EVENTS_OPERATION}
    return result
