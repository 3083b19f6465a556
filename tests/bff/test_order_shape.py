"""The BFF answers one order shape on every endpoint, as its OpenAPI document says, and
the barista queue shows a new order behind a backlog (issue 11), with Identity and
Order running for real behind it."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.backends.cache import SessionStore
from django.middleware.csrf import CSRF_SESSION_KEY, _get_new_csrf_string
from django.test import Client

from bff_site.clients.http import identity_service, order_service
from bff_site.sessions.services import TOKENS_KEY, USER_KEY
from devstack.stack import Stack
from tests.bff.openapi_document import answer_validator


def order_shell(stack: Stack, code: str) -> str:
    """Run Python in Order's Django (what its payment worker would do)."""
    return stack.manage("order", "shell", "-c", code)


@pytest.fixture
def browser(downstreams: Stack, settings: Any) -> Client:
    """A signed-in customer who is also a barista, with the CSRF header set."""
    settings.RATE_LIMITS = {
        "session": {"limit": 100_000, "window": 60},
        "address": {"limit": 100_000, "window": 60},
    }
    order_service.cache_clear()
    identity_service.cache_clear()
    session = SessionStore()
    session[USER_KEY] = {
        "id": str(7000 + int(time.time() * 1000) % 1000),
        "email": "shape@coffeeshop.test",
        "name": "Shape",
        "roles": ["customer", "barista"],
    }
    session[TOKENS_KEY] = {
        "access_token": "a",
        "refresh_token": "r",
        "id_token": "i",
        "expires_at": time.time() + 3600,
    }
    csrf = _get_new_csrf_string()
    session[CSRF_SESSION_KEY] = csrf
    session.save()
    client = Client(HTTP_X_CSRF_TOKEN=csrf)
    client.cookies[django_settings.SESSION_COOKIE_NAME] = session.session_key
    return client


def assert_documented(method: str, path: str, response: Any) -> dict[str, Any]:
    body = response.json()
    errors = [
        e.message for e in answer_validator(method, path, response.status_code).iter_errors(body)
    ]
    assert errors == [], f"{method} {path}: {errors}"
    return dict(body)


def first_line(client: Client) -> dict[str, Any]:
    """A line of the first product needing no option (its first variation, if any)."""
    for category in client.get("/api/menu").json()["categories"]:
        for product in category["products"]:
            if any(group["min"] for group in product["option_groups"]):
                continue
            line = {"product_id": product["id"], "quantity": 1}
            if product["variations"]:
                line["variation_id"] = product["variations"][0]["id"]
            return line
    raise AssertionError("no product without required options")


def latte_line(client: Client) -> dict[str, Any]:
    """A Latte with every required option chosen (options make the old raw shape show)."""
    for category in client.get("/api/menu").json()["categories"]:
        for product in category["products"]:
            if product["name"] == "Latte":
                options = [g["options"][0]["id"] for g in product["option_groups"] if g["min"]]
                line = {"product_id": product["id"], "quantity": 1, "option_ids": options}
                if product["variations"]:
                    line["variation_id"] = product["variations"][0]["id"]
                return line
    raise AssertionError("no Latte on the menu")


def place(client: Client, line: dict[str, Any]) -> Any:
    return client.post(
        "/api/orders",
        data={"lines": [line], "payment_method": "pm_card_visa"},
        content_type="application/json",
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )


def mark_paid(stack: Stack, order_id: int) -> None:
    order_shell(
        stack,
        "from order_site.orders.services import order_mark_paid; "
        f"order_mark_paid(order_id={order_id}, payment_reference='pi_shape_{order_id}')",
    )


def test_every_order_answer_has_the_one_documented_shape(
    browser: Client, downstreams: Stack
) -> None:
    line = latte_line(browser)
    placed = place(browser, line)
    order_id = placed.json()["id"]
    to_cancel = place(browser, first_line(browser)).json()["id"]
    mark_paid(downstreams, order_id)

    answers = [
        ("post", "/api/orders", placed),
        ("get", "/api/orders/{order_id}", browser.get(f"/api/orders/{order_id}")),
        ("get", "/api/orders", browser.get("/api/orders")),
        (
            "post",
            "/api/orders/{order_id}/cancel",
            browser.post(f"/api/orders/{to_cancel}/cancel", content_type="application/json"),
        ),
        ("get", "/api/staff/queue", browser.get("/api/staff/queue")),
        (
            "post",
            "/api/staff/orders/{order_id}/advance",
            browser.post(
                f"/api/staff/orders/{order_id}/advance",
                data={"to": "in_preparation"},
                content_type="application/json",
            ),
        ),
    ]

    assert [a[2].status_code for a in answers] == [201, 200, 200, 200, 200, 200]
    bodies = [assert_documented(method, path, answer) for method, path, answer in answers]
    placed_view, got = bodies[0], bodies[1]
    # The answer right after paying reads as the page after a refresh does.
    assert placed_view["lines"] == got["lines"]
    assert all(isinstance(option, str) for option in got["lines"][0]["options"])
    assert placed_view["number"] is None
    assert str(got["number"]).startswith("A-")
    assert bodies[5]["number"] == got["number"]


def test_a_new_order_shows_in_the_queue_behind_500_older_open_orders(
    browser: Client, downstreams: Stack
) -> None:
    order_shell(
        downstreams,
        "from order_site.orders.models import Order; Order.objects.bulk_create("
        "Order(customer_id=1, status='placed', total=100, currency='GBP', "
        "idempotency_key=f'shape-backlog-{n}', request_fingerprint='f', response_status=201, "
        "response_body={}) for n in range(500))",
    )
    before = browser.get("/api/staff/queue").json()["counts"]["placed"]
    new_id = place(browser, first_line(browser)).json()["id"]
    mark_paid(downstreams, new_id)

    answer = assert_documented("get", "/api/staff/queue", browser.get("/api/staff/queue"))
    one = browser.get("/api/staff/queue", {"status": "placed", "limit": 10, "newest": 1})
    bad = browser.get("/api/staff/queue", {"status": "placed", "cursor": "nonsense"})

    (placed,) = [c for c in answer["columns"] if c["status"] == "placed"]
    assert before >= 500
    assert answer["counts"]["placed"] == placed["count"] == before + 1
    assert placed["newest"][0]["id"] == new_id
    assert new_id not in [o["id"] for o in placed["results"]]  # oldest first: far behind
    assert len(placed["results"]) == 50
    assert placed["next_cursor"] is not None
    column = assert_documented("get", "/api/staff/queue", one)["columns"]
    assert [(c["status"], len(c["results"]), c["newest"][0]["id"]) for c in column] == [
        ("placed", 10, new_id)
    ]
    assert bad.status_code == 400
    assert list(bad.json()["errors"]) == ["cursor"]
