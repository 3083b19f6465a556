"""A fake BFF (answers given fetch requests) and a fake browser platform."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from coffeeshop_client.api import HttpRequest, HttpResponse

MENU: dict[str, Any] = {
    "currency": "GBP",
    "categories": [
        {
            "id": 1,
            "name": "Coffee",
            "products": [
                {
                    "id": 1,
                    "name": "Latte",
                    "description": "Espresso & steamed milk",
                    "base_price": 320,
                    "is_available": True,
                    "allergens": ["milk"],
                    "variation_label": "Size",
                    "variations": [
                        {"id": 1, "name": "Small", "price_delta": 0, "is_available": True},
                        {"id": 2, "name": "Large", "price_delta": 80, "is_available": True},
                        {"id": 3, "name": "Huge", "price_delta": 150, "is_available": False},
                    ],
                    "option_groups": [
                        {
                            "id": 1,
                            "name": "Milk",
                            "min": 1,
                            "max": 1,
                            "options": [
                                {"id": 1, "name": "Whole", "price_delta": 0, "is_available": True},
                                {"id": 2, "name": "Oat", "price_delta": 45, "is_available": True},
                                {"id": 3, "name": "Soy", "price_delta": 45, "is_available": False},
                            ],
                        },
                        {
                            "id": 2,
                            "name": "Syrup",
                            "min": 0,
                            "max": 2,
                            "options": [
                                {
                                    "id": 4,
                                    "name": "Vanilla",
                                    "price_delta": 50,
                                    "is_available": True,
                                },
                                {
                                    "id": 5,
                                    "name": "Caramel",
                                    "price_delta": 50,
                                    "is_available": True,
                                },
                                {
                                    "id": 6,
                                    "name": "Hazelnut",
                                    "price_delta": 50,
                                    "is_available": True,
                                },
                            ],
                        },
                    ],
                },
                {
                    "id": 2,
                    "name": "Espresso <b>",
                    "description": "",
                    "base_price": 250,
                    "is_available": True,
                    "allergens": [],
                    "variations": [],
                    "option_groups": [],
                },
                {
                    "id": 3,
                    "name": "Banana bread",
                    "description": "",
                    "base_price": 300,
                    "is_available": False,
                    "allergens": ["gluten"],
                    "variations": [],
                    "option_groups": [],
                },
            ],
        }
    ],
}


def order_json(
    order_id: str = "ord-0001", status: str = "pending_payment", **extra: Any
) -> dict[str, Any]:
    data = {
        "id": order_id,
        "number": "A-001",
        "status": status,
        "total": 365,
        "currency": "GBP",
        "created_at": "2026-11-25T13:45:00Z",
        "failure_reason": None,
        "lines": [
            {
                "product_name": "Latte",
                "variation_name": "Small",
                "options": ["Oat"],
                "quantity": 1,
                "unit_price": 365,
                "line_total": 365,
            }
        ],
        "history": [{"status": status, "at": "2026-11-25T13:45:00Z"}],
    }
    data.update(extra)
    return data


def queue_json(*orders: dict[str, Any], newest: int = 5) -> dict[str, Any]:
    """The BFF's queue answer holding these orders (oldest first), every column complete."""
    columns = []
    for status in ("placed", "in_preparation", "ready"):
        mine = [o for o in orders if o["status"] == status]
        columns.append(
            {
                "status": status,
                "count": len(mine),
                "results": mine,
                "next_cursor": None,
                "newest": mine[::-1][:newest],
            }
        )
    return {"counts": {c["status"]: c["count"] for c in columns}, "columns": columns}


Handler = Callable[[HttpRequest], "tuple[int, Any] | tuple[int, Any, dict[str, str]]"]


PROVIDER = "https://pay.example"


def fake_tokenize(request: HttpRequest) -> tuple[int, dict[str, Any]]:
    """The payment provider's tokenization, as the sandbox answers it (test cards only)."""
    card = json.loads(request.body or "{}")["card"]
    number = card["number"]
    if number == "4000000000000069":  # Stripe's expired-card test number
        return 402, {
            "error": {
                "type": "card_error",
                "code": "expired_card",
                "param": "exp_month",
                "message": "Your card has expired.",
            }
        }
    return 200, {
        "id": f"pm_fake{number[-4:]}",
        "object": "payment_method",
        "card": {"brand": "visa", "last4": number[-4:]},
    }


class FakeBff:
    """Routes `METHOD path` to canned answers and records every request."""

    def __init__(
        self, *, roles: tuple[str, ...] = ("customer",), authenticated: bool = True
    ) -> None:
        self.requests: list[HttpRequest] = []
        self.routes: dict[str, Any] = {
            "GET /api/session": (
                200,
                {
                    "authenticated": authenticated,
                    "user": {"id": "u1", "email": "c@x", "name": "Casey", "roles": list(roles)}
                    if authenticated
                    else None,
                    "csrf_token": "csrf-123",
                    "admin_url": "https://id.example/admin/" if "manager" in roles else None,
                },
            ),
            "GET /api/menu": (200, MENU),
            "GET /api/config": (
                200,
                {"payments": {"provider_url": PROVIDER, "publishable_key": "pk_test_fake"}},
            ),
            f"POST {PROVIDER}/v1/payment_methods": fake_tokenize,
        }
        self.network_down = False

    def on(self, method: str, path: str, answer: Any) -> None:
        self.routes[f"{method} {path}"] = answer

    async def __call__(self, request: HttpRequest) -> HttpResponse:
        self.requests.append(request)
        await asyncio.sleep(0)  # a real fetch lets other tasks run while it waits
        if self.network_down:
            raise RuntimeError("TypeError: Failed to fetch")
        answer = self.routes.get(f"{request.method} {request.url}")
        if answer is None:
            return HttpResponse(
                404,
                {"content-type": "application/problem+json"},
                '{"title": "Not found", "status": 404}',
            )
        if callable(answer):
            answer = answer(request)
        status, body, *rest = answer
        headers = {"content-type": "application/json", **(rest[0] if rest else {})}
        return HttpResponse(status, headers, json.dumps(body) if body is not None else "")

    def sent(self, method: str, path: str) -> list[HttpRequest]:
        return [r for r in self.requests if r.method == method and r.url == path]


class FakeStream:
    def __init__(
        self,
        url: str,
        on_event: Callable[[str], None],
        on_error: Callable[[bool], None],
        on_open: Callable[[], None],
    ) -> None:
        self.url, self.on_event, self.on_error, self.on_open = url, on_event, on_error, on_open
        self.closed = False

    def close(self) -> None:
        self.closed = True


class FakePlatform:
    def __init__(self, path: str = "") -> None:
        self.path = path
        self.storage: dict[str, str] = {}
        self.cookies: dict[str, str] = {}
        self.filled: list[tuple[str, str]] = []
        self.server_print: str | None = None
        self.adopted: tuple[str, str] | None = None
        self.announced: list[str] = []
        self.nav_html = ""
        self.view_html = ""
        self.focused_heading = 0
        self.streams: list[FakeStream] = []
        self.sleeps: list[float] = []
        self.keys = 0
        self.navigations: list[str] = []

    def render(self, nav_html: str, view_html: str, *, focus_heading: bool) -> None:
        self.nav_html, self.view_html = nav_html, view_html
        self.focused_heading += int(focus_heading)

    def announce(self, text: str) -> None:
        self.announced.append(text)

    def navigate(self, path: str) -> None:
        self.navigations.append(path)
        self.path = path

    def current_path(self) -> str:
        return self.path

    def replace(self, path: str) -> None:
        self.path = path

    def adopt(self, nav_html: str, view_html: str) -> None:
        self.adopted = (nav_html, view_html)
        self.nav_html, self.view_html = nav_html, view_html

    def server_fingerprint(self) -> str | None:
        return self.server_print

    def filled_choices(self) -> list[tuple[str, str]]:
        return self.filled

    def read_cookie(self, name: str) -> str | None:
        return self.cookies.get(name)

    def write_cookie(self, name: str, value: str) -> None:
        self.cookies[name] = value

    def load(self, key: str) -> str | None:
        return self.storage.get(key)

    def save(self, key: str, value: str) -> None:
        self.storage[key] = value

    def new_key(self) -> str:
        self.keys += 1
        return f"key-{self.keys}"

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def open_stream(
        self,
        url: str,
        on_event: Callable[[str], None],
        on_error: Callable[[bool], None],
        on_open: Callable[[], None],
    ) -> FakeStream:
        stream = FakeStream(url, on_event, on_error, on_open)
        self.streams.append(stream)
        return stream
