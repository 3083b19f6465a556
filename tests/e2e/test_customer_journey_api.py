"""A customer orders and a barista serves, through the BFF only, with every service real.

Identity's real login form, the BFF's OIDC code flow with PKCE, Order behind it,
the Celery worker charging the sandbox provider, Kafka events feeding the BFF's
live stream and the e-mail dispatcher, and the SMTP sink.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import httpx
import pytest

from devstack.cli import demo_password
from devstack.servers.smtp import read_messages
from devstack.stack import Stack
from tests.e2e.browserless import browser_client, sign_in
from tests.e2e.cards import card_token

TOKEN_MARKERS = ("access_token", "refresh_token", "id_token")


@pytest.fixture(scope="module")
def bff(system: dict[str, Any]) -> str:
    return f"http://127.0.0.1:{system['ports']['bff']}"


@pytest.fixture(scope="module")
def password(system_stack: Stack) -> str:
    return demo_password(system_stack)


def _csrf(client: httpx.Client) -> str:
    return str(client.get("/api/session").json()["csrf_token"])


def _assert_no_tokens(response: httpx.Response) -> None:
    text = response.text
    for marker in TOKEN_MARKERS:
        assert marker not in text, f"{marker} leaked in {response.request.url}"
    for name in response.cookies:
        assert not name.lower().startswith(TOKEN_MARKERS)


def _product(menu: dict[str, Any], name: str) -> dict[str, Any]:
    for category in menu["categories"]:
        for product in category["products"]:
            if product["name"] == name:
                return dict(product)
    raise AssertionError(f"{name} is not on the menu")


def _option(product: dict[str, Any], group: str, name: str) -> int:
    for option_group in product["option_groups"]:
        if option_group["name"].lower().startswith(group.lower()):
            for option in option_group["options"]:
                if option["name"].lower() == name.lower():
                    return int(option["id"])
    raise AssertionError(f"{group}/{name} not offered for {product['name']}")


def _wait_status(client: httpx.Client, order_id: int, wanted: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        order = client.get(f"/api/orders/{order_id}").json()
        if order["status"] == wanted:
            return dict(order)
        assert time.monotonic() < deadline, f"order stuck in {order['status']}, wanted {wanted}"
        time.sleep(0.5)


def test_a_customer_orders_pays_and_sees_ready_live_while_a_barista_serves(
    bff: str, password: str, system_stack: Stack
) -> None:
    customer = browser_client(bff)
    landed = sign_in(customer, email="customer@coffeeshop.local", password=password)
    assert landed.status_code == 200
    assert str(landed.url).startswith(bff)
    session = customer.get("/api/session")
    _assert_no_tokens(session)
    assert session.json()["authenticated"] is True
    assert session.json()["user"]["roles"] == ["customer"]

    menu = customer.get("/api/menu")
    _assert_no_tokens(menu)
    latte = _product(menu.json(), "Latte")
    line = {
        "product_id": latte["id"],
        "variation_id": latte["variations"][0]["id"],
        "option_ids": [_option(latte, "size", "Large"), _option(latte, "milk", "Oat")],
        "quantity": 1,
    }
    csrf = _csrf(customer)
    preview = customer.post(
        "/api/cart/price", json={"lines": [line]}, headers={"X-CSRF-Token": csrf}
    )
    assert preview.status_code == 200, preview.text
    expected_total = preview.json()["total"]

    events: list[dict[str, Any]] = []

    def listen() -> None:
        with customer.stream("GET", "/api/events", timeout=70) as stream:
            kind = ""
            for raw in stream.iter_lines():
                if raw.startswith("event:"):
                    kind = raw[6:].strip()
                if raw.startswith("data:") and kind == "order":
                    events.append(json.loads(raw[5:]))
                    if events[-1]["status"] == "ready":
                        return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    time.sleep(1)

    key = str(uuid.uuid4())
    token = card_token(customer)
    placed = customer.post(
        "/api/orders",
        json={"lines": [line], "payment_method": token},
        headers={"X-CSRF-Token": csrf, "Idempotency-Key": key},
    )
    assert placed.status_code == 201, placed.text
    _assert_no_tokens(placed)
    order = placed.json()
    assert order["total"] == expected_total
    replay = customer.post(
        "/api/orders",
        json={"lines": [line], "payment_method": token},
        headers={"X-CSRF-Token": csrf, "Idempotency-Key": key},
    )
    assert replay.json()["id"] == order["id"]
    _wait_status(customer, order["id"], "placed")

    barista = browser_client(bff)
    sign_in(barista, email="barista@coffeeshop.local", password=password)
    queue = barista.get("/api/staff/queue").json()
    (placed,) = [c for c in queue["columns"] if c["status"] == "placed"]
    assert order["id"] in [o["id"] for o in placed["newest"]]
    number = customer.get(f"/api/orders/{order['id']}").json()["number"]
    assert [o["number"] for o in placed["newest"] if o["id"] == order["id"]] == [number]
    staff_csrf = _csrf(barista)
    for status in ("in_preparation", "ready"):
        moved = barista.post(
            f"/api/staff/orders/{order['id']}/advance",
            json={"to": status},
            headers={"X-CSRF-Token": staff_csrf},
        )
        assert moved.status_code == 200, moved.text
        assert moved.json()["status"] == status

    listener.join(timeout=30)
    assert [e["status"] for e in events][-1] == "ready", events
    assert customer.get(f"/api/orders/{order['id']}").json()["status"] == "ready"

    deadline = time.monotonic() + 30
    while True:
        ready_mails = [
            m
            for m in read_messages(system_stack.maildir)
            if m["To"] == "customer@coffeeshop.local"
            and "ready" in str(m["Subject"]).lower()
            and str(m["Subject"]) == f"Order {number} is ready"
        ]
        if ready_mails:
            break
        assert time.monotonic() < deadline, "no 'ready' e-mail reached the SMTP sink"
        time.sleep(0.5)
    assert len(ready_mails) == 1


def test_a_customer_cannot_see_another_customers_order_or_use_staff_endpoints(
    bff: str, password: str
) -> None:
    customer = browser_client(bff)
    sign_in(customer, email="customer@coffeeshop.local", password=password)
    assert customer.get("/api/orders/999999").status_code == 404
    assert customer.get("/api/staff/queue").status_code == 403
    advance = customer.post(
        "/api/staff/orders/1/advance",
        json={"to": "ready"},
        headers={"X-CSRF-Token": _csrf(customer)},
    )
    assert advance.status_code == 403


def test_after_sign_out_the_session_is_gone_and_private_endpoints_answer_401(
    bff: str, password: str
) -> None:
    customer = browser_client(bff)
    sign_in(customer, email="customer@coffeeshop.local", password=password)
    assert customer.get("/api/orders").status_code == 200
    out = customer.post(
        "/auth/logout", headers={"X-CSRF-Token": _csrf(customer), "Accept": "application/json"}
    )
    assert out.status_code == 200
    assert "/o/logout" in out.json()["redirect"] or out.json()["redirect"] == "/"
    assert customer.get("/api/session").json()["authenticated"] is False
    assert customer.get("/api/orders").status_code == 401
