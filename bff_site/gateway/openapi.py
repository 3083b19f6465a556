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
QUEUE_PARAMS = [
    {
        "name": "status",
        "in": "query",
        "required": False,
        "schema": {"enum": QUEUE_STATUSES},
        "description": "Only this column",
    },
    {
        "name": "cursor",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "maxLength": 100},
        "description": "A column's `next_cursor` (needs `status`)",
    },
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
    },
    {
        "name": "newest",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 0, "maximum": 50, "default": 5},
    },
]
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
        "description": "One shape on every endpoint that answers an order",
        "properties": {
            "id": INT,
            "number": {
                "type": ["string", "null"],
                "description": 'The pickup number ("A-042", unique for its day), given '
                "when the order is paid; null before",
            },
            "status": {"enum": ORDER_STATUSES},
            "status_reason": {
                "type": ["string", "null"],
                "description": "Why the order ended in its status (rejected, cancelled, "
                "not_collected, expired), else null",
            },
            "total": INT,
            "currency": STR,
            "created_at": {"type": "string", "format": "date-time"},
            "failure_reason": {"type": ["string", "null"]},
            "lines": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "product_name": STR,
                        "variation_name": STR,
                        "options": {"type": "array", "items": STR},
                        "quantity": INT,
                        "unit_price": INT,
                        "line_total": INT,
                    },
                    "required": [
                        "product_name",
                        "variation_name",
                        "options",
                        "quantity",
                        "unit_price",
                        "line_total",
                    ],
                    "additionalProperties": False,
                },
            },
            "history": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "status": {"enum": ORDER_STATUSES},
                        "at": {"type": "string", "format": "date-time"},
                    },
                    "required": ["status", "at"],
                    "additionalProperties": False,
                },
            },
            "refunded": {"type": "boolean"},
            "cancellable_until": {
                "type": ["string", "null"],
                "format": "date-time",
                "description": "Until when the customer may cancel this paid order",
            },
        },
        "required": [
            "id",
            "number",
            "status",
            "total",
            "currency",
            "created_at",
            "failure_reason",
            "lines",
            "history",
            "refunded",
            "cancellable_until",
        ],
        "additionalProperties": False,
    },
    "QueueColumn": {
        "type": "object",
        "properties": {
            "status": {"enum": QUEUE_STATUSES},
            "count": {"type": "integer", "minimum": 0},
            "results": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/Order"},
                "description": "A page of the column, oldest first",
            },
            "next_cursor": {
                "type": ["string", "null"],
                "description": "Pass as `cursor` (with `status`) for the next page; null: last",
            },
            "newest": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/Order"},
                "description": "The column's latest arrivals, newest first",
            },
        },
        "required": ["status", "count", "results", "next_cursor", "newest"],
        "additionalProperties": False,
    },
    "Queue": {
        "type": "object",
        "properties": {
            "counts": {
                "type": "object",
                "properties": {status: {"type": "integer"} for status in QUEUE_STATUSES},
                "required": QUEUE_STATUSES,
            },
            "columns": {"type": "array", "items": {"$ref": "#/components/schemas/QueueColumn"}},
        },
        "required": ["counts", "columns"],
        "additionalProperties": False,
    },
    "DayReport": {
        "type": "object",
        "description": "A manager's report of the shop's local day. Amounts are integers "
        "in the smallest unit of `currency`; only orders in the shop's currency count.",
        "properties": {
            "date": {"type": "string", "format": "date", "description": "The local day"},
            "time_zone": {"type": "string", "description": "The shop's time zone"},
            "currency": STR,
            "orders": {
                "type": "integer",
                "minimum": 0,
                "description": "Orders whose payment was captured this day, including "
                "those cancelled or rejected later; unpaid, failed and expired ones never",
            },
            "gross": {"type": "integer", "description": "The sum of those orders' totals"},
            "refunds": {
                "type": "integer",
                "description": "Refunds completed at the provider this day, whichever day "
                "their order was paid (requested or failed ones do not count)",
            },
            "takings": {
                "type": "integer",
                "description": "gross - refunds (negative on a day of refunds only)",
            },
            "orders_per_hour": {
                "type": "array",
                "items": {"type": "integer", "minimum": 0},
                "minItems": 24,
                "maxItems": 24,
                "description": "`orders` by local hour of payment, 00:00-00:59 first",
            },
            "best_sellers": {
                "type": "array",
                "description": "Products by quantity sold this day (cancelled and rejected "
                "orders left out), most first",
                "items": {
                    "type": "object",
                    "properties": {
                        "product_id": {"type": ["integer", "null"]},
                        "name": STR,
                        "quantity": {"type": "integer", "minimum": 1},
                        "revenue": INT,
                    },
                    "required": ["product_id", "name", "quantity", "revenue"],
                    "additionalProperties": False,
                },
            },
        },
        "required": [
            "date",
            "time_zone",
            "currency",
            "orders",
            "gross",
            "refunds",
            "takings",
            "orders_per_hour",
            "best_sellers",
        ],
        "additionalProperties": False,
    },
    "Person": {
        "type": ["object", "null"],
        "description": "Someone as Order's copy of users knows them; null: the system",
        "properties": {"id": STR, "name": STR, "email": STR},
        "required": ["id", "name", "email"],
        "additionalProperties": False,
    },
    "ManagedOrder": {
        "type": "object",
        "description": "An order as a manager sees it",
        "properties": {
            "order": _ref("Order"),
            "customer": _ref("Person"),
            "payment": {
                "type": ["object", "null"],
                "description": "The charge (null: never charged); card brand and last four only",
                "properties": {
                    "amount": INT,
                    "currency": STR,
                    "status": {"enum": ["requested", "succeeded", "failed", "cancelled"]},
                    "card_brand": STR,
                    "card_last4": STR,
                    "refunded_amount": {
                        "type": "integer",
                        "description": "Refunds the provider confirmed",
                    },
                    "refundable": {
                        "type": "integer",
                        "description": "What a new refund may be at most",
                    },
                },
                "required": [
                    "amount",
                    "currency",
                    "status",
                    "card_brand",
                    "card_last4",
                    "refunded_amount",
                    "refundable",
                ],
                "additionalProperties": False,
            },
            "refunds": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": INT,
                        "amount": INT,
                        "status": {"enum": ["requested", "succeeded", "failed"]},
                        "reason": STR,
                        "requested_by": _ref("Person"),
                        "created_at": {"type": "string", "format": "date-time"},
                        "completed_at": {"type": ["string", "null"], "format": "date-time"},
                    },
                    "required": [
                        "id",
                        "amount",
                        "status",
                        "reason",
                        "requested_by",
                        "created_at",
                        "completed_at",
                    ],
                    "additionalProperties": False,
                },
            },
            "history": {
                "type": "array",
                "description": "Every transition: to which status, when, who, why",
                "items": {
                    "type": "object",
                    "properties": {
                        "status": {"enum": ORDER_STATUSES},
                        "at": {"type": "string", "format": "date-time"},
                        "actor": _ref("Person"),
                        "note": STR,
                    },
                    "required": ["status", "at", "actor", "note"],
                    "additionalProperties": False,
                },
            },
        },
        "required": ["order", "customer", "payment", "refunds", "history"],
        "additionalProperties": False,
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
    code: str = "200",
) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {code: ok}}
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
            code="201",
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
        "get": _op(
            "The barista queue by column: counts, a page oldest first, the newest arrivals",
            _json(_ref("Queue")),
            params=QUEUE_PARAMS,
            errors=("400", "401", "403", "503"),
        )
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
    "/api/staff/orders/{order_id}/reject": {
        "post": _op(
            "Reject a paid order with a reason (refunded in full)",
            _json(_ref("Order")),
            body={
                "type": "object",
                "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 200}},
                "required": ["reason"],
            },
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
    "/api/manage/report": {
        "get": _op(
            "A manager's day report: takings, orders per hour, best sellers (not cached)",
            _json(_ref("DayReport")),
            params=[
                {
                    "name": "date",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "format": "date"},
                    "description": "The shop's local day, YYYY-MM-DD (2000-01-01 to "
                    "2999-12-31); today in the shop's time zone if absent",
                },
                {
                    "name": "top",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 1, "maximum": 20, "default": 5},
                    "description": "How many best sellers",
                },
            ],
            errors=("400", "401", "403", "503"),
        )
    },
    "/api/manage/orders": {
        "get": _op(
            "A manager finds any order (by pickup number, customer e-mail, shop day), newest first",
            _json(
                {
                    "type": "object",
                    "properties": {
                        "results": {"type": "array", "items": _ref("ManagedOrder")},
                        "next_cursor": {"type": ["string", "null"]},
                    },
                    "required": ["results", "next_cursor"],
                    "additionalProperties": False,
                }
            ),
            params=[
                {
                    "name": "number",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "maxLength": 12},
                    "description": 'A pickup number, e.g. "A-042" (any day unless `date`)',
                },
                {
                    "name": "email",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "maxLength": 254},
                    "description": "The customer's e-mail, exactly (any case)",
                },
                {
                    "name": "date",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "format": "date"},
                    "description": "The shop's day the order was placed",
                },
                {
                    "name": "cursor",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "maxLength": 100},
                    "description": "The previous page's `next_cursor`",
                },
                {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                },
            ],
            errors=("400", "401", "403", "503"),
        )
    },
    "/api/manage/orders/{order_id}": {
        "get": _op(
            "Any order as a manager sees it: payment, refunds, who did what",
            _json(_ref("ManagedOrder")),
            params=ORDER_ID,
            errors=("401", "403", "404", "503"),
        )
    },
    "/api/manage/orders/{order_id}/refunds": {
        "post": _op(
            "A manager refunds all or part of a paid order with a reason (Idempotency-Key: "
            "the same key and body give the same refund; another body 422)",
            _json(
                {
                    **SCHEMAS["ManagedOrder"],
                    "properties": {**SCHEMAS["ManagedOrder"]["properties"], "refund_id": INT},
                    "required": [*SCHEMAS["ManagedOrder"]["required"], "refund_id"],
                },
                "The refund is requested; the order as it stands now",
            ),
            body={
                "type": "object",
                "properties": {
                    "amount": {
                        "type": "integer",
                        "minimum": 1,
                        "description": "In pence; at most what is left to refund",
                    },
                    "reason": {"type": "string", "minLength": 1, "maxLength": 200},
                },
                "required": ["amount", "reason"],
            },
            params=[
                *ORDER_ID,
                *CSRF,
                {"name": "Idempotency-Key", "in": "header", "required": True, "schema": STR},
            ],
            errors=("400", "401", "403", "404", "409", "503"),
            code="201",
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
