"""The BFF while Order is down: the menu from cache, placements refused with 503 naming
Order, and both recover by themselves when Order returns."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

from devstack.cli import demo_password
from devstack.stack import Stack
from tests.e2e.browserless import browser_client, sign_in


def _line(menu: dict[str, Any]) -> dict[str, Any]:
    product = next(p for c in menu["categories"] for p in c["products"] if p["name"] == "Espresso")
    required = [
        option["id"]
        for group in product["option_groups"]
        for option in group["options"][: group["min"]]
    ]
    return {
        "product_id": product["id"],
        "variation_id": product["variations"][0]["id"],
        "option_ids": required,
        "quantity": 1,
    }


def _place(client: httpx.Client, line: dict[str, Any]) -> httpx.Response:
    csrf = client.get("/api/session").json()["csrf_token"]
    return client.post(
        "/api/orders",
        json={"lines": [line], "payment_method": "pm_card_visa"},
        headers={"X-CSRF-Token": csrf, "Idempotency-Key": str(uuid.uuid4())},
    )


def test_with_order_stopped_menu_is_served_from_cache_and_placement_is_503_naming_order(
    system: dict[str, Any], system_stack: Stack
) -> None:
    client = browser_client(f"http://127.0.0.1:{system['ports']['bff']}")
    sign_in(client, email="customer@coffeeshop.local", password=demo_password(system_stack))
    menu = client.get("/api/menu")
    assert menu.status_code == 200
    line = _line(menu.json())
    redis = system_stack.redis.client()
    order = system_stack.process("order")
    assert order is not None
    order.stop()
    try:
        # Only the long-lived "last good" copy is left, as after the fresh copy expired.
        redis.delete("bff:1:menu:v2")
        cached = client.get("/api/menu")
        assert cached.status_code == 200
        assert cached.json() == menu.json()
        assert "stale" in cached.headers["Warning"]

        refused = _place(client, line)
        assert refused.status_code == 503
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["downstream"] == "order"
        assert "order is unavailable" in refused.json()["detail"]
    finally:
        system_stack.restart_site("order")

    deadline = time.monotonic() + 60
    while True:
        placed = _place(client, line)
        if placed.status_code == 201:
            break
        assert placed.status_code == 503, placed.text
        assert time.monotonic() < deadline, "placement did not recover after Order returned"
        time.sleep(1)
    redis.delete("bff:1:menu:v2")
    fresh = client.get("/api/menu")
    assert fresh.status_code == 200
    assert "Warning" not in fresh.headers
