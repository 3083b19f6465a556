"""Typed client for CoffeeShop.Order (DESIGN.md auth flow 2).

The BFF calls Order with a client_credentials token of its own — `bff-customer`
for a customer's calls, `bff-staff` for staff calls — and states the acting
user in `X-Acting-User` / `X-Acting-Roles`. Order accepts those headers only
from a client holding `orders:on-behalf-of`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache

from bff_site.clients import identity
from bff_site.clients.http import order_service
from shared import telemetry
from shared.problems import DomainError

SCOPES = {
    "customer": "orders:read orders:write orders:on-behalf-of",
    "staff": "orders:read orders:write orders:staff orders:on-behalf-of",
}
STAFF_ROLES = {"barista", "manager"}


class OrderError(DomainError):
    """Order answered with a problem; its status and details pass through unchanged."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(str(body.get("detail") or body.get("title") or "Order refused"))
        self.status = status
        self.title = str(body.get("title") or "Order refused")
        self.slug = str(body.get("type", "order-error")).rsplit("/", 1)[-1]
        self.extra = {
            k: v for k, v in body.items() if k not in {"type", "title", "status", "detail"}
        }


def _service_token(audience: str) -> str:
    """A client_credentials token for the audience role, cached until just before expiry."""
    key = f"order-token:{audience}"
    token = cache.get(key)
    if token:
        return str(token)
    client = settings.ORDER_CLIENTS[audience]
    answer = identity.client_credentials(
        client_id=client["client_id"],
        client_secret=settings.SECRETS[client["secret_key"]],
        scope=SCOPES[audience],
    )
    token = answer["access_token"]
    cache.set(key, token, max(1, int(answer.get("expires_in", 300)) - 30))
    return str(token)


def _audience(user: dict[str, Any] | None, staff: bool) -> str:
    if staff and user and STAFF_ROLES & set(user.get("roles", [])):
        return "staff"
    return "customer"


def _call(
    method: str,
    path: str,
    *,
    user: dict[str, Any] | None,
    staff: bool = False,
    json: Any = None,
    idempotency_key: str | None = None,
    public: bool = False,
) -> tuple[int, Any]:
    audience = _audience(user, staff)
    # A public read (the menu) needs no token: it must not depend on Identity being up.
    headers = {} if public else {"Authorization": f"Bearer {_service_token(audience)}"}
    if user is not None:
        headers["X-Acting-User"] = str(user["id"])
        headers["X-Acting-Roles"] = ",".join(user.get("roles", []))
    response = order_service().request(
        method, path, headers=headers, json=json, idempotency_key=idempotency_key
    )
    if response.status_code == 401 and not public:
        # Our service token expired or was revoked early: get a new one once.
        cache.delete(f"order-token:{audience}")
        headers["Authorization"] = f"Bearer {_service_token(audience)}"
        response = order_service().request(
            method, path, headers=headers, json=json, idempotency_key=idempotency_key
        )
    body = response.json() if response.content else {}
    if response.status_code >= 400:
        raise OrderError(response.status_code, body if isinstance(body, dict) else {})
    return response.status_code, body


def _menu_view(categories: list[dict[str, Any]]) -> dict[str, Any]:
    """Order's categories in the client's shape (docs/bff-api.md)."""
    currency = "GBP"
    for category in categories:
        for product in category.get("products", []):
            currency = product.get("currency", currency)
            for group in product.get("option_groups", []):
                group["min"] = group.get("min_selections", 0)
                group["max"] = group.get("max_selections", len(group.get("options", [])))
    return {"currency": currency, "categories": categories}


def order_view(order: dict[str, Any]) -> dict[str, Any]:
    """One order in the client's shape (docs/bff-api.md `Order`), the same on every
    endpoint that answers orders: place, get, list, cancel, advance, queue, profile.

    Only the named fields pass, so whatever else Order adds never reaches the browser."""
    return {
        "id": order["id"],
        "number": order.get("number") or None,
        "status": order["status"],
        "total": order["total"],
        "currency": order["currency"],
        "created_at": order["created_at"],
        "failure_reason": order.get("failure_reason") or None,
        "cup_name": str(order.get("cup_name") or ""),
        "note": str(order.get("note") or ""),
        "lines": [
            {
                # The ids, so "Order again" can put the line back in a cart (null: since
                # taken off the menu).
                "product_id": line.get("product_id"),
                "variation_id": line.get("variation_id"),
                "option_ids": [o["id"] for o in line["options"] if isinstance(o, dict)],
                "product_name": line["product_name"],
                "variation_name": line.get("variation_name") or "",
                "options": [o["name"] if isinstance(o, dict) else o for o in line["options"]],
                "quantity": line["quantity"],
                "unit_price": line["unit_price"],
                "line_total": line["line_total"],
            }
            for line in order.get("lines", [])
        ],
        "history": [
            {"status": h.get("to_status", h.get("status")), "at": h["at"]}
            for h in order.get("history", [])
        ],
        "refunded": bool(order.get("refunded")),
        "cancellable_until": order.get("cancellable_until") or None,
        "status_reason": _status_reason(order),
    }


# Final statuses whose recorded note says why (a barista's reason, a sweep's rule).
REASONED_STATUSES = ("rejected", "cancelled", "not_collected", "expired")


def _status_reason(order: dict[str, Any]) -> str | None:
    """Why the order ended as it did (the note of the transition into its status), for
    the order page's "Rejected: out of oat milk"; None for any other status."""
    if order.get("status") not in REASONED_STATUSES:
        return None
    for change in reversed(order.get("history") or []):
        if change.get("to_status") == order.get("status"):
            return str(change.get("note") or "") or None
    return None


def menu() -> dict[str, Any]:
    return _menu_view(list(_call("GET", settings.ORDER_PATHS["menu"], user=None, public=True)[1]))


def order_place(
    *, user: dict[str, Any], body: dict[str, Any], idempotency_key: str
) -> tuple[int, dict[str, Any]]:
    status, data = _call(
        "POST",
        settings.ORDER_PATHS["orders"],
        user=user,
        json=body,
        idempotency_key=idempotency_key,
    )
    if isinstance(data, dict):
        telemetry.annotate(order_id=data.get("id"))
    return status, order_view(data)


def _results(data: Any) -> list[dict[str, Any]]:
    items = data["results"] if isinstance(data, dict) and "results" in data else data
    return [order_view(item) for item in items]


def order_list(*, user: dict[str, Any]) -> list[dict[str, Any]]:
    return _results(_call("GET", settings.ORDER_PATHS["orders"], user=user)[1])


def order_summary(*, user: dict[str, Any]) -> dict[str, Any]:
    """The user's order count and newest order (Order's `orders/summary/`)."""
    data = _call("GET", f"{settings.ORDER_PATHS['orders']}summary/", user=user)[1]
    last = data.get("last_order")
    return {
        "order_count": int(data["order_count"]),
        "last_order": order_view(last) if last is not None else None,
    }


def order_report(*, user: dict[str, Any], query: dict[str, str]) -> dict[str, Any]:
    """A manager's day report (Order's `orders/report/`, with the staff client), only
    its named fields (docs/bff-api.md)."""
    path = f"{settings.ORDER_PATHS['orders']}report/"
    if query:
        path = f"{path}?{urlencode(query)}"
    data = _call("GET", path, user=user, staff=True)[1]
    return {
        "date": str(data["date"]),
        "time_zone": str(data["time_zone"]),
        "currency": str(data["currency"]),
        **{k: int(data[k]) for k in ("orders", "gross", "refunds", "takings")},
        "orders_per_hour": [int(n) for n in data["orders_per_hour"]],
        "best_sellers": [
            {
                "product_id": s["product_id"],
                "name": str(s["name"]),
                "quantity": int(s["quantity"]),
                "revenue": int(s["revenue"]),
            }
            for s in data["best_sellers"]
        ],
    }


def order_get(*, user: dict[str, Any], order_id: int) -> dict[str, Any]:
    return order_view(_call("GET", f"{settings.ORDER_PATHS['orders']}{order_id}/", user=user)[1])


def order_cancel(*, user: dict[str, Any], order_id: int) -> dict[str, Any]:
    path = f"{settings.ORDER_PATHS['orders']}{order_id}/cancel/"
    return order_view(_call("POST", path, user=user, json={})[1])


def favourite_view(favourite: dict[str, Any]) -> dict[str, Any]:
    """One saved drink in the client's shape (docs/bff-api.md `Favourite`)."""
    return {
        "id": int(favourite["id"]),
        "name": str(favourite.get("name") or ""),
        "product_id": int(favourite["product_id"]),
        "variation_id": favourite.get("variation_id"),
        "option_ids": [int(o) for o in favourite.get("option_ids") or []],
    }


def favourites(*, user: dict[str, Any]) -> list[dict[str, Any]]:
    """The user's saved drinks ("my usual"), oldest first."""
    data = _call("GET", f"{settings.ORDER_PATHS['orders']}favourites/", user=user)[1]
    return [favourite_view(item) for item in data]


def favourite_save(*, user: dict[str, Any], body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Save a drink (201; 200 when that drink was saved already, renamed if named)."""
    path = f"{settings.ORDER_PATHS['orders']}favourites/"
    status, data = _call("POST", path, user=user, json=body)
    return status, favourite_view(data)


def favourite_delete(*, user: dict[str, Any], favourite_id: int) -> None:
    path = f"{settings.ORDER_PATHS['orders']}favourites/{favourite_id}/"
    _call("DELETE", path, user=user)


def staff_queue(*, user: dict[str, Any], query: dict[str, str]) -> dict[str, Any]:
    """The barista queue by column (Order's `orders/queue/`): counts, a page of each
    column oldest first with the cursor of the next, and its newest arrivals."""
    path = settings.ORDER_PATHS["queue"]
    if query:
        path = f"{path}?{urlencode(query)}"
    data = _call("GET", path, user=user, staff=True)[1]
    return {
        "counts": {str(k): int(v) for k, v in data["counts"].items()},
        "columns": [
            {
                "status": column["status"],
                "count": int(column["count"]),
                "results": [order_view(o) for o in column["results"]],
                "next_cursor": column["next_cursor"],
                "newest": [order_view(o) for o in column["newest"]],
            }
            for column in data["columns"]
        ],
    }


def order_advance(*, user: dict[str, Any], order_id: int, to: str) -> dict[str, Any]:
    path = f"{settings.ORDER_PATHS['orders']}{order_id}/advance/"
    return order_view(_call("POST", path, user=user, staff=True, json={"status": to})[1])


def order_reject(*, user: dict[str, Any], order_id: int, reason: str) -> dict[str, Any]:
    path = f"{settings.ORDER_PATHS['orders']}{order_id}/reject/"
    return order_view(_call("POST", path, user=user, staff=True, json={"reason": reason})[1])


MENU_ITEMS = ("product", "variation", "option")


def menu_item_update(
    *, user: dict[str, Any], item: str, item_id: int, changes: dict[str, Any]
) -> dict[str, Any]:
    """A manager's edit of one product, variation or option (Order's
    `PATCH /api/menu/<item>s/<id>/`, with the staff client); answers Order's new row."""
    if item not in MENU_ITEMS:
        raise ValueError(item)
    path = f"{settings.ORDER_PATHS['menu']}{item}s/{item_id}/"
    return dict(_call("PATCH", path, user=user, staff=True, json=changes)[1])


# ---- a manager's look-up and refunds (issue 11; views in gateway/manage_orders.py) --------

SEARCH_PARAMS = ("number", "email", "date", "cursor", "limit")


def _person(person: Any) -> dict[str, Any] | None:
    if not isinstance(person, dict):
        return None
    return {
        "id": str(person["id"]),
        "name": str(person.get("name") or ""),
        "email": str(person.get("email") or ""),
    }


def managed_order_view(order: dict[str, Any]) -> dict[str, Any]:
    """An order as a manager sees it (docs/bff-api.md `ManagedOrder`): the one `Order`
    shape, and beside it the customer, the payment (card brand and last four only),
    the refunds with why and who asked, and every transition with who and why. Only
    the named fields pass."""
    payment = order.get("payment")
    return {
        "order": order_view(order),
        "customer": _person(order.get("customer")),
        "payment": None
        if not isinstance(payment, dict)
        else {
            "amount": int(payment["amount"]),
            "currency": str(payment["currency"]),
            "status": str(payment["status"]),
            "card_brand": str(payment.get("card_brand") or ""),
            "card_last4": str(payment.get("card_last4") or ""),
            "refunded_amount": int(payment.get("refunded_amount") or 0),
            "refundable": int(payment.get("refundable") or 0),
        },
        "refunds": [
            {
                "id": int(refund["id"]),
                "amount": int(refund["amount"]),
                "status": str(refund["status"]),
                "reason": str(refund.get("reason") or ""),
                "requested_by": _person(refund.get("requested_by")),
                "created_at": refund["created_at"],
                "completed_at": refund.get("completed_at") or None,
            }
            for refund in order.get("refunds") or []
        ],
        "history": [
            {
                "status": change["to_status"],
                "at": change["at"],
                "actor": _person(change.get("actor")),
                "note": str(change.get("note") or ""),
            }
            for change in order.get("history") or []
        ],
    }


def orders_search(*, user: dict[str, Any], query: dict[str, str]) -> dict[str, Any]:
    """Order's `orders/search/` (managers): a page of orders, newest first."""
    path = f"{settings.ORDER_PATHS['orders']}search/"
    if query:
        path = f"{path}?{urlencode(query)}"
    data = _call("GET", path, user=user, staff=True)[1]
    return {
        "results": [managed_order_view(o) for o in data["results"]],
        "next_cursor": data.get("next_cursor") or None,
    }


def order_manage_get(*, user: dict[str, Any], order_id: int) -> dict[str, Any]:
    path = f"{settings.ORDER_PATHS['orders']}{order_id}/manage/"
    return managed_order_view(_call("GET", path, user=user, staff=True)[1])


def order_refund(
    *, user: dict[str, Any], order_id: int, amount: int, reason: str, idempotency_key: str
) -> dict[str, Any]:
    """A manager's refund of all or part of an order (Order's `orders/<id>/refunds/`),
    idempotent by the caller's key; answers the order as a manager sees it now, and the
    refund's id."""
    path = f"{settings.ORDER_PATHS['orders']}{order_id}/refunds/"
    data = _call(
        "POST",
        path,
        user=user,
        staff=True,
        json={"amount": amount, "reason": reason},
        idempotency_key=idempotency_key,
    )[1]
    return {**managed_order_view(data), "refund_id": int(data["refund_id"])}
