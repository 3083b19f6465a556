"""The BFF's profile: Identity's current data about the user and Order's view of their
orders, not the claims saved at sign-in."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from devstack.cli import demo_password
from devstack.stack import Stack
from tests.e2e.browserless import browser_client, sign_in


@pytest.fixture(scope="module")
def bff(system: dict[str, Any]) -> str:
    return f"http://127.0.0.1:{system['ports']['bff']}"


def identity_shell(stack: Stack, code: str) -> None:
    """Run Python in Identity's `manage.py shell`, the code on stdin (it holds a password)."""
    stack.manage("identity", "shell", stdin=code)


def test_profile_shows_the_name_identity_has_now_and_the_users_orders(
    bff: str, system_stack: Stack
) -> None:
    email = f"pat-{uuid.uuid4().hex[:8]}@coffeeshop.test"
    password = demo_password(system_stack)
    identity_shell(
        system_stack,
        "from identity_site.accounts.services import user_create\n"
        f"user_create(email={email!r}, password={password!r}, full_name='Pat Before')\n",
    )
    customer = browser_client(bff)
    assert sign_in(customer, email=email, password=password).status_code == 200
    user_id = customer.get("/api/session").json()["user"]["id"]

    before = customer.get("/api/profile")
    assert before.status_code == 200, before.text
    assert before.json() == {
        "user": {"id": user_id, "email": email, "name": "Pat Before", "roles": ["customer"]},
        "order_count": 0,
        "last_order": None,
    }

    menu = customer.get("/api/menu").json()
    donuts = next(p for c in menu["categories"] for p in c["products"] if p["name"] == "Donuts")
    csrf = customer.get("/api/session").json()["csrf_token"]
    placed = customer.post(
        "/api/orders",
        json={
            "lines": [
                {
                    "product_id": donuts["id"],
                    "variation_id": donuts["variations"][0]["id"],
                    "quantity": 1,
                }
            ],
            "payment_method": "pm_card_visa",
        },
        headers={"X-CSRF-Token": csrf, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert placed.status_code == 201, placed.text
    identity_shell(
        system_stack,
        "from identity_site.accounts.models import User\n"
        "from identity_site.accounts.services import user_update\n"
        f"user_update(user=User.objects.get(email={email!r}), full_name='Pat After')\n",
    )

    after = customer.get("/api/profile")

    assert after.status_code == 200, after.text
    body = after.json()
    assert body["user"] == {
        "id": user_id,
        "email": email,
        "name": "Pat After",
        "roles": ["customer"],
    }
    assert body["order_count"] == 1
    assert body["last_order"]["id"] == placed.json()["id"]
    assert body["last_order"]["total"] == donuts["base_price"]
    for marker in ("access_token", "refresh_token", "id_token"):
        assert marker not in after.text
