"""The BFF's OpenAPI 3.1 document (docs/bff-api.md in machine-readable form).

The BFF's views are plain Django views over the downstream clients, so the
document is written here, next to them, rather than generated.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from shared.cart import MAX_LINES

INT = {"type": "integer"}
STR = {"type": "string"}
PROBLEM = {"$ref": "#/components/schemas/Problem"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    code: {"description": text, "content": {"application/problem+json": {"schema": PROBLEM}}}
    for code, text in {
        "400": "Bad input (problem details name the fields)",
        "401": "Sign-in required",
        "403": "Forbidden, or the CSRF header is missing",
        "404": "Not found (or not yours)",
        "409": "Not allowed in the order's current status",
        "415": "The body is not application/json",
        "429": "Rate limited (see Retry-After)",
        "503": "A downstream service is unavailable (problem names it)",
    }.items()
}
CSRF = [{"name": "X-CSRF-Token", "in": "header", "required": True, "schema": STR}]
ORDER_ID = [{"name": "order_id", "in": "path", "required": True, "schema": INT}]

SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "properties": {"type": STR, "title": STR, "status": INT, "detail": STR},
        "required": ["type", "title", "status"],
    },
    "Line": {
        "type": "object",
        "properties": {
            "product_id": INT,
            "variation_id": {"type": ["integer", "null"]},
            "option_ids": {"type": "array", "items": INT},
            "quantity": {"type": "integer", "minimum": 1, "maximum": 20},
        },
        "required": ["product_id", "quantity"],
    },
    "Order": {
        "type": "object",
        "properties": {
            "id": INT,
            "status": {
                "enum": [
                    "pending_payment",
                    "placed",
                    "in_preparation",
                    "ready",
                    "collected",
                    "payment_failed",
                    "cancelled",
                ]
            },
            "total": INT,
            "currency": STR,
            "created_at": {"type": "string", "format": "date-time"},
            "lines": {"type": "array", "items": {"type": "object"}},
            "cancellable_until": {
                "type": ["string", "null"],
                "format": "date-time",
                "description": "Until when the customer may cancel this paid order",
            },
        },
    },
    "Session": {
        "type": "object",
        "properties": {
            "authenticated": {"type": "boolean"},
            "user": {"type": ["object", "null"]},
            "csrf_token": STR,
            "admin_url": {"type": ["string", "null"]},
        },
    },
}


def _op(
    summary: str,
    ok: dict[str, Any],
    *,
    body: dict[str, Any] | None = None,
    params: list[dict[str, Any]] | None = None,
    errors: tuple[str, ...] = (),
) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {"200": ok}}
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if params:
        op["parameters"] = params
    for code in errors:
        op["responses"][code] = ERRORS[code]
    return op


ORDERS = {"type": "object", "properties": {"results": {"type": "array", "items": _ref("Order")}}}
PATHS: dict[str, Any] = {
    "/api/session": {"get": _op("Who is signed in, and the CSRF token", _json(_ref("Session")))},
    "/api/config": {
        "get": _op(
            "Where the browser tokenizes cards: the payment provider's URL and publishable key",
            _json({"type": "object"}),
        )
    },
    "/api/menu": {
        "get": _op(
            "The menu (cached; stale while Order is down)",
            _json({"type": "object"}),
            errors=("503",),
        )
    },
    "/api/cart/price": {
        "post": _op(
            "Price a cart (the rules and caps of placement, shared/cart.py)",
            _json({"type": "object"}),
            body={
                "type": "object",
                "properties": {
                    "lines": {
                        "type": "array",
                        "items": {**SCHEMAS["Line"], "additionalProperties": False},
                        "minItems": 1,
                        "maxItems": MAX_LINES,
                    }
                },
                "required": ["lines"],
                "additionalProperties": False,
            },
            params=CSRF,
            errors=("400", "403", "415", "503"),
        )
    },
    "/api/orders": {
        "get": _op("My orders, newest first", _json(ORDERS), errors=("401", "503")),
        "post": _op(
            "Place an order (Idempotency-Key replays)",
            _json(_ref("Order")),
            body={
                "type": "object",
                "properties": {
                    "lines": {"type": "array", "items": _ref("Line")},
                    "payment_method": {
                        "type": "string",
                        "pattern": "^pm_[A-Za-z0-9_]{1,60}$",
                        "description": "The payment provider's token for the card, never "
                        "a card number",
                    },
                },
                "required": ["lines", "payment_method"],
            },
            params=[
                *CSRF,
                {"name": "Idempotency-Key", "in": "header", "required": True, "schema": STR},
            ],
            errors=("400", "401", "403", "429", "503"),
        ),
    },
    "/api/orders/{order_id}": {
        "get": _op(
            "One of my orders", _json(_ref("Order")), params=ORDER_ID, errors=("401", "404", "503")
        )
    },
    "/api/orders/{order_id}/cancel": {
        "post": _op(
            "Cancel (refunds when paid)",
            _json(_ref("Order")),
            params=[*ORDER_ID, *CSRF],
            errors=("401", "403", "404", "409", "503"),
        )
    },
    "/api/profile": {
        "get": _op(
            "Me as Identity knows me now, and my orders",
            _json(
                {
                    "type": "object",
                    "properties": {
                        "user": {
                            "type": "object",
                            "properties": {
                                "id": STR,
                                "email": STR,
                                "name": STR,
                                "roles": {"type": "array", "items": STR},
                            },
                            "required": ["id", "email", "name", "roles"],
                        },
                        "order_count": INT,
                        "last_order": {"oneOf": [_ref("Order"), {"type": "null"}]},
                    },
                    "required": ["user", "order_count", "last_order"],
                }
            ),
            errors=("401", "503"),
        )
    },
    "/api/staff/queue": {
        "get": _op("The live queue, oldest first", _json(ORDERS), errors=("401", "403", "503"))
    },
    "/api/staff/orders/{order_id}/advance": {
        "post": _op(
            "Move an order on",
            _json(_ref("Order")),
            body={"type": "object", "properties": {"to": STR}, "required": ["to"]},
            params=[*ORDER_ID, *CSRF],
            errors=("400", "401", "403", "404", "409", "503"),
        )
    },
    **{
        f"/api/manage/{kind}s/{{{kind}_id}}": {
            "patch": _op(
                f"A manager changes a {kind} (sold out or back, price"
                + (", description)" if kind == "product" else ")"),
                _json({"type": "object"}),
                body={
                    "type": "object",
                    "properties": {
                        name: {"type": "boolean"}
                        if name == "is_available"
                        else STR
                        if name == "description"
                        else INT
                        for name in fields
                    },
                    "additionalProperties": False,
                    "minProperties": 1,
                },
                params=[
                    {"name": f"{kind}_id", "in": "path", "required": True, "schema": INT},
                    *CSRF,
                ],
                errors=("400", "401", "403", "404", "503"),
            )
        }
        for kind, fields in (
            ("product", ("description", "base_price", "is_available")),
            ("variation", ("price_delta", "is_available")),
            ("option", ("price_delta", "is_available")),
        )
    },
    "/api/events": {
        "get": {
            "summary": "Live order status (server-sent events)",
            "responses": {
                "200": {
                    "description": "event stream",
                    "content": {"text/event-stream": {"schema": STR}},
                },
                "401": ERRORS["401"],
            },
        }
    },
}

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {
        "title": "CoffeeShop BFF API",
        "version": "1.0.0",
        "description": "The web client's API. Authentication: the session cookie.",
    },
    "paths": PATHS,
    "components": {"schemas": SCHEMAS},
}


@require_GET
def schema(request: HttpRequest) -> JsonResponse:
    return JsonResponse(DOCUMENT, json_dumps_params={"indent": 1})
