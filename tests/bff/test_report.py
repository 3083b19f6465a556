"""A manager's day report through the BFF (`GET /api/manage/report`), with Identity and
Order running for real behind it: managers only, Order's figures in the documented
shape, and a bad date named."""

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
from devstack.stack import Stack
from shared.problems import TYPE_BASE
from tests.bff.openapi_document import answer_validator

DAY = "2031-03-14"  # a day no other test pays orders on (Order's TIME_ZONE is UTC here)


def session_client(roles: list[str]) -> Client:
    from bff_site.sessions.services import TOKENS_KEY, USER_KEY

    session = SessionStore()
    user_id = str(8000 + uuid.uuid4().int % 1000)
    session[USER_KEY] = {"id": user_id, "email": f"{user_id}@x.test", "name": "Sam", "roles": roles}
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


@pytest.fixture
def bff(downstreams: Stack, settings: Any) -> Stack:
    settings.RATE_LIMITS = {
        "session": {"limit": 100_000, "window": 60},
        "address": {"limit": 100_000, "window": 60},
    }
    order_service.cache_clear()
    identity_service.cache_clear()
    return downstreams


def simple_line(client: Client) -> dict[str, Any]:
    """One of the first product needing no option (its first variation, if any)."""
    for category in client.get("/api/menu").json()["categories"]:
        for product in category["products"]:
            if not any(group["min"] for group in product["option_groups"]):
                line = {"product_id": product["id"], "quantity": 2}
                if product["variations"]:
                    line["variation_id"] = product["variations"][0]["id"]
                return line
    raise AssertionError("no product without required options")


def place(client: Client, line: dict[str, Any]) -> dict[str, Any]:
    response = client.post(
        "/api/orders",
        data={"lines": [line], "payment_method": "pm_card_visa"},
        content_type="application/json",
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 201, response.content
    return dict(response.json())


def paid_on_day(stack: Stack, paid: dict[int, str]) -> None:
    """Mark orders paid (as Order's payment worker would) at the given UTC times."""
    stack.manage(
        "order",
        "shell",
        "-c",
        "from datetime import datetime; "
        "from order_site.orders.models import Order; "
        "from order_site.orders.services import order_mark_paid\n"
        f"for order_id, at in {paid!r}.items():\n"
        "    order_mark_paid(order_id=order_id, payment_reference=f'pi_report_{order_id}')\n"
        "    Order.objects.filter(id=order_id).update(paid_at=datetime.fromisoformat(at))",
    )


def documented(body: dict[str, Any]) -> list[str]:
    validator = answer_validator("get", "/api/manage/report", 200)
    return [error.message for error in validator.iter_errors(body)]


def test_a_manager_sees_the_day_s_takings_hours_and_best_seller(bff: Stack) -> None:
    customer = session_client(["customer"])
    line = simple_line(customer)
    morning, noon, unpaid = (place(customer, line) for _ in range(3))
    paid_on_day(bff, {morning["id"]: f"{DAY}T09:15:00+00:00", noon["id"]: f"{DAY}T12:40:00+00:00"})

    response = session_client(["manager", "barista"]).get("/api/manage/report", {"date": DAY})

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert documented(body) == []
    hours = [0] * 24
    hours[9] = hours[12] = 1
    assert unpaid["status"] == "pending_payment"
    name = morning["lines"][0]["product_name"]
    assert {k: v for k, v in body.items() if k != "best_sellers"} == {
        "date": DAY,
        "time_zone": "UTC",
        "currency": morning["currency"],
        "orders": 2,
        "gross": morning["total"] + noon["total"],
        "refunds": 0,
        "takings": morning["total"] + noon["total"],
        "orders_per_hour": hours,
    }
    [seller] = body["best_sellers"]
    assert (seller["name"], seller["quantity"], seller["revenue"]) == (
        name,
        4,
        morning["total"] + noon["total"],
    )
    assert isinstance(seller["product_id"], int)


@pytest.mark.parametrize("roles", [["barista"], ["customer"]])
def test_only_a_manager_may_see_the_report(bff: Stack, roles: list[str]) -> None:
    response = session_client(roles).get("/api/manage/report", {"date": DAY})

    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": TYPE_BASE + "forbidden",
        "title": "Forbidden",
        "status": 403,
        "detail": "Only a manager can see the day's takings."
        if roles == ["barista"]
        else "Only staff can do this.",
    }


def test_signed_out_the_report_needs_sign_in(bff: Stack) -> None:
    response = Client().get("/api/manage/report")

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("value", ["2031-02-30", "14/03/2031", "1999-01-01", "é"])
def test_a_bad_date_is_a_400_naming_date(bff: Stack, value: str) -> None:
    response = session_client(["manager"]).get("/api/manage/report", {"date": value})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert list(response.json()["errors"]) == ["date"]


def test_without_a_date_the_report_is_of_today(bff: Stack) -> None:
    response = session_client(["manager"]).get("/api/manage/report")

    assert response.status_code == 200
    body = response.json()
    assert documented(body) == []
    assert body["date"] == time.strftime("%Y-%m-%d", time.gmtime())  # Order's zone: UTC
