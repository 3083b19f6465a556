"""The manager's Orders pages: finding an order, what its page shows, and a part refund
(checked, confirmed, sent once with one Idempotency-Key per attempt)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from coffeeshop_client.api import ApiClient
from coffeeshop_client.app import App
from coffeeshop_client.manage_orders import refund_check

from tests.wasm_client.fakes import FakeBff, FakePlatform, order_json


def managed(refunds: list[dict[str, Any]] | None = None, refunded: int = 0) -> dict[str, Any]:
    refunds = refunds or []
    return {
        "order": order_json("42", "collected", number="A-042"),
        "customer": {"id": "u7", "name": "Ada", "email": "ada@x.test"},
        "payment": {
            "amount": 365,
            "currency": "GBP",
            "status": "succeeded",
            "card_brand": "visa",
            "card_last4": "4242",
            "refunded_amount": refunded,
            "refundable": 365 - sum(r["amount"] for r in refunds),
        },
        "refunds": refunds,
        "history": [
            {
                "status": "pending_payment",
                "at": "2026-11-25T13:45:00Z",
                "actor": {"id": "u7", "name": "Ada", "email": "ada@x.test"},
                "note": "",
            },
            {"status": "placed", "at": "2026-11-25T13:45:03Z", "actor": None, "note": "paid"},
            {
                "status": "collected",
                "at": "2026-11-25T13:52:00Z",
                "actor": {"id": "b1", "name": "Bea", "email": "bea@x.test"},
                "note": "",
            },
        ],
    }


REFUND = {
    "id": 9,
    "amount": 150,
    "status": "requested",
    "reason": "Latte was cold",
    "requested_by": {"id": "u1", "name": "Casey", "email": "c@x"},
    "created_at": "2026-11-25T14:00:00Z",
    "completed_at": None,
}


def make(fragment: str, roles: tuple[str, ...] = ("manager", "barista")):
    bff = FakeBff(roles=roles)
    platform = FakePlatform(fragment)
    return App(ApiClient(bff), platform), bff, platform


def test_a_manager_finds_orders_by_email_and_each_links_to_its_page() -> None:
    app, bff, platform = make("#/manage/orders")
    bff.on(
        "GET",
        "/api/manage/orders?email=ada%40x.test",
        (200, {"results": [managed()], "next_cursor": None}),
    )

    async def scenario() -> None:
        await app.start()
        await app.dispatch("orders-search", {"number": "", "email": " ada@x.test ", "date": ""})

    asyncio.run(scenario())

    html = platform.view_html
    assert 'data-testid="nav-manage-orders"' in platform.nav_html
    assert 'href="/manage/orders/42"' in html
    assert "Order A-042" in html
    assert "ada@x.test" in html
    assert platform.announced[-1] == "1 order found."


def test_a_manager_sees_an_orders_lines_payment_refunds_and_who_did_what() -> None:
    app, bff, platform = make("#/manage/orders/42")
    bff.on("GET", "/api/manage/orders/42", (200, managed([REFUND])))

    asyncio.run(app.start())

    html = platform.view_html
    assert "Order A-042" in html
    assert "1 \u00d7 Latte (Small), Oat" in html
    assert "Visa ending 4242" in html
    assert "£1.50 (requested) — Latte was cold — by Casey" in html
    assert "2026-11-25 13:52 UTC · collected · Bea" in html
    assert "placed · the system · paid" in html
    assert 'data-testid="manage-refundable">£2.15<' in html


@pytest.mark.parametrize("roles", [("barista",), ("customer",)])
def test_the_orders_pages_are_for_managers_only(roles: tuple[str, ...]) -> None:
    app, bff, platform = make("#/manage/orders/42", roles)

    asyncio.run(app.start())

    assert "Looking up and refunding orders is for managers." in platform.view_html
    assert bff.sent("GET", "/api/manage/orders/42") == []
    assert 'data-testid="nav-manage-orders"' not in platform.nav_html


def test_a_part_refund_is_confirmed_then_sent_once_with_its_key() -> None:
    app, bff, platform = make("#/manage/orders/42")
    bff.on("GET", "/api/manage/orders/42", (200, managed()))
    bff.on("POST", "/api/manage/orders/42/refunds", (201, {**managed([REFUND]), "refund_id": 9}))

    async def scenario() -> None:
        await app.start()
        await app.dispatch("refund-review", {"amount": "1.50", "reason": " Latte  was cold "})
        confirm = platform.view_html
        assert bff.sent("POST", "/api/manage/orders/42/refunds") == []
        assert (
            "Refund £1.50 of £3.65 to Visa ending 4242 for order A-042? Reason: Latte was cold"
            in confirm
        )
        await app.dispatch("refund-confirm", {})
        await app.dispatch("refund-confirm", {})  # a second click after it went: nothing

    asyncio.run(scenario())

    [sent] = bff.sent("POST", "/api/manage/orders/42/refunds")
    assert json.loads(sent.body or "") == {"amount": 150, "reason": "Latte was cold"}
    assert sent.headers["Idempotency-Key"] == "key-1"
    assert sent.headers["X-CSRF-Token"] == "csrf-123"
    assert "Refund of £1.50 requested for order A-042." in platform.view_html
    assert platform.announced[-1].startswith("Refund of £1.50 requested")


def test_a_retry_after_a_lost_answer_sends_the_same_key() -> None:
    app, bff, _platform = make("#/manage/orders/42")
    bff.on("GET", "/api/manage/orders/42", (200, managed()))
    bff.on("POST", "/api/manage/orders/42/refunds", (201, {**managed([REFUND]), "refund_id": 9}))

    async def scenario() -> None:
        await app.start()
        await app.dispatch("refund-review", {"amount": "1.50", "reason": "cold"})
        bff.network_down = True
        await app.dispatch("refund-confirm", {})
        bff.network_down = False
        await app.dispatch("refund-confirm", {})

    asyncio.run(scenario())

    keys = [r.headers["Idempotency-Key"] for r in bff.sent("POST", "/api/manage/orders/42/refunds")]
    assert keys == ["key-1", "key-1"]


def test_refund_all_fills_in_what_is_left() -> None:
    app, bff, platform = make("#/manage/orders/42")
    bff.on("GET", "/api/manage/orders/42", (200, managed([REFUND])))

    async def scenario() -> None:
        await app.start()
        await app.dispatch("refund-full", {})

    asyncio.run(scenario())

    assert 'name="amount" value="2.15"' in platform.view_html


@pytest.mark.parametrize(
    ("amount", "reason", "errors"),
    [
        ("0", "x", {"amount": "Enter an amount in pounds and pence, like 1.50."}),
        ("abc", "x", {"amount": "Enter an amount in pounds and pence, like 1.50."}),
        ("3.66", "x", {"amount": "At most 3.65: what is left to refund."}),
        ("1", "  ", {"reason": "Say why: the customer is told."}),
    ],
)
def test_a_bad_refund_is_named_beside_its_field_and_nothing_is_sent(
    amount: str, reason: str, errors: dict[str, str]
) -> None:
    app, bff, platform = make("#/manage/orders/42")
    bff.on("GET", "/api/manage/orders/42", (200, managed()))

    async def scenario() -> None:
        await app.start()
        await app.dispatch("refund-review", {"amount": amount, "reason": reason})

    asyncio.run(scenario())

    assert refund_check(amount, reason, refundable=365)[2] == errors
    for message in errors.values():
        assert message in platform.view_html
    assert bff.sent("POST", "/api/manage/orders/42/refunds") == []


def test_a_refund_the_bff_refuses_shows_its_reason_beside_the_field() -> None:
    app, bff, platform = make("#/manage/orders/42")
    bff.on("GET", "/api/manage/orders/42", (200, managed()))
    bff.on(
        "POST",
        "/api/manage/orders/42/refunds",
        (
            400,
            {
                "title": "Invalid input",
                "status": 400,
                "errors": {"amount": ["Must be between 1 and 200."]},
            },
        ),
    )

    async def scenario() -> None:
        await app.start()
        await app.dispatch("refund-review", {"amount": "3", "reason": "cold"})
        await app.dispatch("refund-confirm", {})

    asyncio.run(scenario())

    assert "Must be between 1 and 200." in platform.view_html
    assert 'data-testid="refund-form"' in platform.view_html
