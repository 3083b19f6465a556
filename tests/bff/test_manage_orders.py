"""A manager's orders through the BFF (issue 11): find any order, see its payment,
refunds and history, refund part of it. Refusals (not a manager, a bad body, no key) are
answered by the BFF itself; the rest runs against Identity and Order for real."""

from __future__ import annotations

import json
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
from shared.problems import TYPE_BASE
from tests.bff.test_order_shape import assert_documented, first_line, order_shell, place

REFUNDS = "/api/manage/orders/5/refunds"


def signed_in(roles: list[str], *, user_id: str | None = None, csrf_checks: bool = False) -> Client:
    """A browser signed in with these roles, its CSRF header set (unless `csrf_checks`:
    then the header is left out and Django's check is on)."""
    session = SessionStore()
    user_id = user_id or str(uuid.uuid4().int % 10**9)
    session[USER_KEY] = {
        "id": user_id,
        "email": f"{user_id}@x.test",
        "name": "Mo",
        "roles": roles,
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
    client = Client(enforce_csrf_checks=True) if csrf_checks else Client(HTTP_X_CSRF_TOKEN=csrf)
    client.cookies[django_settings.SESSION_COOKIE_NAME] = str(session.session_key)
    return client


def refund(client: Client, path: str, body: Any, key: str | None = "k-1") -> Any:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(path, json.dumps(body), content_type="application/json", headers=headers)


@pytest.mark.parametrize("roles", [["barista"], ["customer"]])
def test_only_a_manager_may_look_up_or_refund_orders(roles: list[str]) -> None:
    client = signed_in(roles)

    answers = [
        client.get("/api/manage/orders?email=a@x.test"),
        client.get("/api/manage/orders/5"),
        refund(client, REFUNDS, {"amount": 100, "reason": "cold"}),
    ]

    # Order is not running in this test: a forwarded call would be a 503.
    assert [a.status_code for a in answers] == [403, 403, 403]
    assert answers[0].json()["type"] == TYPE_BASE + "forbidden"
    if roles == ["barista"]:
        assert answers[2].json()["detail"] == "Only a manager can refund an order."


def test_signed_out_manager_endpoints_need_sign_in() -> None:
    assert Client().get("/api/manage/orders").status_code == 401


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"amount": 0, "reason": "cold"}, {"amount": ["A whole number of pence, at least 1."]}),
        ({"amount": 1.5, "reason": "cold"}, {"amount": ["A whole number of pence, at least 1."]}),
        ({"amount": "100", "reason": "cold"}, {"amount": ["A whole number of pence, at least 1."]}),
        ({"amount": 100}, {"reason": ["Say why: 1 to 200 characters."]}),
        ({"amount": 100, "reason": "  "}, {"reason": ["Say why: 1 to 200 characters."]}),
        (
            {},
            {
                "amount": ["A whole number of pence, at least 1."],
                "reason": ["Say why: 1 to 200 characters."],
            },
        ),
    ],
)
def test_a_bad_refund_is_400_naming_each_field_before_order_is_asked(
    body: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    response = refund(signed_in(["manager"]), REFUNDS, body)

    assert response.status_code == 400
    assert response.json()["errors"] == errors


def test_a_refund_without_an_idempotency_key_is_400_naming_the_header() -> None:
    response = refund(signed_in(["manager"]), REFUNDS, {"amount": 100, "reason": "x"}, key=None)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["Idempotency-Key"]


def test_a_refund_without_the_csrf_header_is_refused() -> None:
    client = signed_in(["manager"], csrf_checks=True)

    response = refund(client, REFUNDS, {"amount": 100, "reason": "x"})

    assert response.status_code == 403


@pytest.fixture
def open_limits(settings: Any) -> None:
    settings.RATE_LIMITS = {
        "session": {"limit": 100_000, "window": 60},
        "address": {"limit": 100_000, "window": 60},
    }
    order_service.cache_clear()
    identity_service.cache_clear()


def test_a_manager_finds_an_order_by_email_and_refunds_part_of_it_once(
    downstreams: Stack, open_limits: None
) -> None:
    customer_id = str(40_000 + int(time.time() * 1000) % 10_000)
    customer = signed_in(["customer"], user_id=customer_id)
    manager = signed_in(["manager", "barista"])
    order_id = place(customer, first_line(customer)).json()["id"]
    email = f"ada-{customer_id}@coffeeshop.test"
    order_shell(
        downstreams,
        "from django.utils import timezone; "
        "from order_site.users.models import Customer; "
        "from order_site.payments.models import Payment; "
        "from order_site.order_payments.charges import payment_charge; "
        f"Customer.objects.create(id={customer_id}, email='{email}', name='Ada', "
        "source_event_at=timezone.now()); "
        f"payment_charge(payment_id=Payment.objects.get(order_id={order_id}).id)",
    )

    found = manager.get("/api/manage/orders", {"email": email.upper()})
    detail = manager.get(f"/api/manage/orders/{order_id}")
    path = f"/api/manage/orders/{order_id}/refunds"
    first = refund(manager, path, {"amount": 10, "reason": "Cold"}, key=f"r-{order_id}")
    again = refund(manager, path, {"amount": 10, "reason": "Cold"}, key=f"r-{order_id}")
    other_body = refund(manager, path, {"amount": 11, "reason": "Cold"}, key=f"r-{order_id}")
    too_much = refund(manager, path, {"amount": 100_000, "reason": "All"}, key=f"s-{order_id}")

    assert [found.status_code, detail.status_code, first.status_code, again.status_code] == [
        200,
        200,
        201,
        201,
    ]
    page = assert_documented("get", "/api/manage/orders", found)
    assert [r["order"]["id"] for r in page["results"]] == [order_id]
    shown = assert_documented("get", "/api/manage/orders/{order_id}", detail)
    assert shown["customer"] == {"id": customer_id, "name": "Ada", "email": email}
    assert (shown["payment"]["card_brand"], shown["payment"]["card_last4"]) == ("visa", "4242")
    assert [h["status"] for h in shown["history"]] == ["pending_payment", "placed"]
    assert shown["history"][1]["actor"] is None
    refunded = assert_documented("post", "/api/manage/orders/{order_id}/refunds", first)
    assert again.json()["refund_id"] == refunded["refund_id"]
    assert [(r["amount"], r["reason"], r["status"]) for r in refunded["refunds"]] == [
        (10, "Cold", "requested")
    ]
    total = shown["order"]["total"]
    assert refunded["payment"]["refundable"] == total - 10
    assert other_body.status_code == 422
    assert too_much.status_code == 400
    assert too_much.json()["errors"] == {"amount": [f"Must be between 1 and {total - 10}."]}


def test_a_bad_search_is_400_from_order_naming_the_field(
    downstreams: Stack, open_limits: None
) -> None:
    response = signed_in(["manager"]).get("/api/manage/orders", {"date": "yesterday"})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["date"]
