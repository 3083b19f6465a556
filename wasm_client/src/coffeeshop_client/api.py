"""The BFF's JSON API (docs/bff-api.md), given any async fetch function.

The browser passes a wrapper around `window.fetch`; tests pass a fake. Every
failure becomes an `ApiError` carrying what the customer needs to be told:
which service is down (503), when to retry (429), which fields are wrong (400).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from coffeeshop_client.manage_orders import ManagedOrder
from coffeeshop_client.models import Favourite, Menu, Order, QueueColumn, Session

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SERVICE_NAMES = {
    "order": "The ordering service",
    "identity": "The sign-in service",
    "payment": "The payment service",
    "bff": "The shop's server",
}


@dataclass(frozen=True)
class HttpRequest:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]  # lower-case names
    body: str


Fetch = Callable[[HttpRequest], Awaitable[HttpResponse]]


class NetworkError(Exception):
    """The request never got an answer (offline, DNS, connection reset)."""


class ApiError(Exception):
    """An answer that is not a success, read from its problem details (RFC 9457)."""

    def __init__(
        self,
        status: int,
        title: str = "",
        detail: str = "",
        *,
        service: str | None = None,
        retry_after: int | None = None,
        errors: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{status} {title}: {detail}".strip())
        self.status = status
        self.title = title
        self.detail = detail
        self.service = service
        self.retry_after = retry_after
        self.errors = errors or {}

    @classmethod
    def from_response(cls, response: HttpResponse) -> ApiError:
        problem: dict[str, Any] = {}
        try:
            loaded = json.loads(response.body) if response.body else {}
            if isinstance(loaded, dict):
                problem = loaded
        except ValueError:
            pass
        errors = problem.get("errors")
        return cls(
            response.status,
            str(problem.get("title") or ""),
            str(problem.get("detail") or ""),
            service=problem.get("service") or None,
            retry_after=parse_retry_after(response.headers.get("retry-after")),
            errors=errors if isinstance(errors, dict) else None,
        )


def parse_retry_after(value: str | None) -> int | None:
    """Seconds from a `Retry-After` header (RFC 9110 §10.2.3); an HTTP date is not
    worth a clock comparison here, so it reads as 'a little while' (5 s)."""
    if not value:
        return None
    try:
        return max(0, math.ceil(float(value.strip())))
    except ValueError:
        return 5


FIELD_LABELS = {"cup_name": "name on the cup", "note": "note for the barista"}


def _field_label(name: str) -> str:
    """A field of the request in the customer's words: `lines[0].option_ids` is "line 1"
    of their cart (a sold-out choice is refused naming it), `cup_name` the "name on the
    cup"; other names stay as they are."""
    line = re.match(r"lines\[(\d+)\]", name)
    return f"line {int(line.group(1)) + 1}" if line else FIELD_LABELS.get(name, name)


def describe_error(error: BaseException) -> str:
    """One sentence telling the customer what went wrong and what to do."""
    if isinstance(error, NetworkError):
        return "Can't reach the shop. Check your connection and try again."
    if not isinstance(error, ApiError):
        return "Something went wrong on this page. Reload it and try again."
    if error.status == 429:
        wait = error.retry_after if error.retry_after is not None else 5
        unit = "second" if wait == 1 else "seconds"
        return f"Too many requests. Try again in {wait} {unit}."
    if error.status == 503:
        who = SERVICE_NAMES.get(error.service or "", "The shop")
        if error.service and error.service not in SERVICE_NAMES:
            who = f"The {error.service} service"
        return f"{who} is unavailable right now. Please try again in a moment."
    if error.status == 401:
        return "Please sign in to do that."
    if error.status == 403:
        return error.detail or "You are not allowed to do that."
    if error.status == 404:
        return error.detail or "That could not be found."
    if error.errors:
        details = "; ".join(
            f"{_field_label(name)}: {' '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}"
            for name, msgs in error.errors.items()
        )
        return f"{error.detail or error.title or 'Please check your order'} ({details})"
    if 400 <= error.status < 500:
        return error.detail or error.title or "That request was not accepted."
    return "The shop had a problem answering. Please try again in a moment."


class ApiClient:
    """One method per BFF endpoint. Raises ApiError or NetworkError."""

    def __init__(self, fetch: Fetch, *, base_url: str = "") -> None:
        self._fetch = fetch
        self._base = base_url.rstrip("/")
        self.csrf_token = ""

    async def _call(
        self,
        method: str,
        path: str,
        payload: Any = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> Any:
        sent = {"Accept": "application/json"}
        if payload is not None:
            sent["Content-Type"] = "application/json"
        if method in UNSAFE_METHODS and self.csrf_token:
            sent["X-CSRF-Token"] = self.csrf_token
        sent.update(headers or {})
        body = json.dumps(payload) if payload is not None else None
        try:
            response = await self._fetch(HttpRequest(method, self._base + path, sent, body))
        except NetworkError:
            raise
        except Exception as err:  # the browser's TypeError "Failed to fetch" and kin
            raise NetworkError(str(err)) from err
        if not 200 <= response.status < 300:
            raise ApiError.from_response(response)
        if not response.body:
            return None
        try:
            return json.loads(response.body)
        except ValueError:
            raise ApiError(response.status, "Unreadable answer", "The shop sent no JSON.") from None

    async def session(self) -> Session:
        session = Session.from_json(await self._call("GET", "/api/session"))
        self.csrf_token = session.csrf_token
        return session

    async def config(self) -> dict[str, Any]:
        """Where and how the browser tokenizes cards (the payment provider's public side)."""
        return dict(await self._call("GET", "/api/config"))

    @property
    def fetch(self) -> Fetch:
        return self._fetch

    async def menu(self) -> Menu:
        return Menu.from_json(await self._call("GET", "/api/menu"))

    async def place_order(
        self,
        lines: list[dict[str, Any]],
        payment_method: str,
        idempotency_key: str,
        *,
        cup_name: str = "",
        note: str = "",
    ) -> Order:
        body: dict[str, Any] = {"lines": lines, "payment_method": payment_method}
        # Sent only when given: an order without them is the request it always was.
        body.update({k: v for k, v in (("cup_name", cup_name), ("note", note)) if v})
        data = await self._call(
            "POST", "/api/orders", body, headers={"Idempotency-Key": idempotency_key}
        )
        return Order.from_json(data)

    async def favourites(self) -> list[Favourite]:
        data = await self._call("GET", "/api/favourites")
        return [Favourite.from_json(f) for f in data.get("results") or ()]

    async def favourite_save(
        self,
        product_id: int,
        variation_id: int | None,
        option_ids: tuple[int, ...],
        name: str = "",
    ) -> Favourite:
        """Save a drink as "my usual" (the same drink again keeps one, renamed)."""
        body = {
            "product_id": product_id,
            "variation_id": variation_id,
            "option_ids": list(option_ids),
            "name": name,
        }
        return Favourite.from_json(await self._call("POST", "/api/favourites", body))

    async def favourite_delete(self, favourite_id: str) -> None:
        await self._call("DELETE", f"/api/favourites/{quote(favourite_id, safe='')}")

    async def orders(self) -> list[Order]:
        data = await self._call("GET", "/api/orders")
        return [Order.from_json(o) for o in data.get("results", [])]

    async def order(self, order_id: str) -> Order:
        return Order.from_json(await self._call("GET", f"/api/orders/{order_id}"))

    async def cancel(self, order_id: str) -> Order:
        return Order.from_json(await self._call("POST", f"/api/orders/{order_id}/cancel"))

    async def queue(
        self, status: str | None = None, cursor: str | None = None
    ) -> tuple[dict[str, int], list[QueueColumn]]:
        """The queue's counts per column and its columns (one, when `status` is given)."""
        query = ""
        if status:
            query = "?status=" + quote(status, safe="")
            if cursor:
                query += "&cursor=" + quote(cursor, safe="")
        data = await self._call("GET", "/api/staff/queue" + query)
        counts = {str(k): int(v) for k, v in (data.get("counts") or {}).items()}
        return counts, [QueueColumn.from_json(c) for c in data.get("columns") or ()]

    async def advance(self, order_id: str, to: str) -> Order:
        data = await self._call("POST", f"/api/staff/orders/{order_id}/advance", {"to": to})
        return Order.from_json(data)

    async def reject(self, order_id: str, reason: str) -> Order:
        path = f"/api/staff/orders/{order_id}/reject"
        return Order.from_json(await self._call("POST", path, {"reason": reason}))

    async def report(self, day: str | None = None) -> dict[str, Any]:
        """A manager's day report (today in the shop's time zone when `day` is None)."""
        query = "?date=" + quote(day, safe="") if day else ""
        return dict(await self._call("GET", "/api/manage/report" + query))

    async def menu_item_update(
        self, item: str, item_id: int, changes: dict[str, Any]
    ) -> dict[str, Any]:
        """A manager's edit of a product, variation or option; answers the changed row."""
        return dict(await self._call("PATCH", f"/api/manage/{item}s/{item_id}", changes))

    # ---- a manager's orders (manage_orders.py) ----------------------------------------

    async def manage_orders(self, query: dict[str, str]) -> tuple[list[Any], str | None]:
        """Orders matching `query` (number, email, date, cursor), newest first, and the
        cursor of the next page (None: no more)."""
        path = "/api/manage/orders" + ("?" + urlencode(query) if query else "")
        data = await self._call("GET", path)
        results = [ManagedOrder.from_json(o) for o in data.get("results") or ()]
        return results, data.get("next_cursor") or None

    async def manage_order(self, order_id: str) -> Any:
        path = f"/api/manage/orders/{quote(order_id, safe='')}"
        return ManagedOrder.from_json(await self._call("GET", path))

    async def refund(self, order_id: str, amount: int, reason: str, idempotency_key: str) -> Any:
        """Refund `amount` (smallest unit) of the order; the same key retries the same refund."""
        data = await self._call(
            "POST",
            f"/api/manage/orders/{quote(order_id, safe='')}/refunds",
            {"amount": amount, "reason": reason},
            headers={"Idempotency-Key": idempotency_key},
        )
        return ManagedOrder.from_json(data)
