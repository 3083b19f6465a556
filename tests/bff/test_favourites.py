"""Favourites ("my usual") and a cup name through the BFF (issue 17), with Identity and
Order running for real behind it: CSRF on the cookie, each person their own, Order's
words for a bad field, and the documented shapes."""

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
from tests.bff.test_order_shape import assert_documented, latte_line


def signed_in(user_id: str, *, csrf_header: bool = True) -> Client:
    """A browser with a signed-in customer's session cookie (and the CSRF header)."""
    session = SessionStore()
    session[USER_KEY] = {
        "id": user_id,
        "email": f"usual-{user_id}@coffeeshop.test",
        "name": "Regular",
        "roles": ["customer"],
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
    # CSRF checked as the browser's requests are (the test client skips it by default).
    headers = {"HTTP_X_CSRF_TOKEN": csrf} if csrf_header else {}
    client = Client(enforce_csrf_checks=True, **headers)
    client.cookies[django_settings.SESSION_COOKIE_NAME] = session.session_key
    return client


@pytest.fixture
def people(downstreams: Stack, settings: Any) -> tuple[Client, Client]:
    """Two signed-in customers, ids new to this run."""
    settings.RATE_LIMITS = {
        "session": {"limit": 100_000, "window": 60},
        "address": {"limit": 100_000, "window": 60},
    }
    order_service.cache_clear()
    identity_service.cache_clear()
    base = 10**6 + uuid.uuid4().int % 10**9 * 2
    return signed_in(str(base)), signed_in(str(base + 1))


def save(client: Client, body: Any) -> Any:
    return client.post("/api/favourites", data=body, content_type="application/json")


def usual(client: Client, name: str = "My usual") -> dict[str, Any]:
    line = latte_line(client)
    del line["quantity"]
    return {**line, "name": name}


def test_a_saved_drink_is_mine_only_and_comes_back_in_the_documented_shape(people) -> None:
    mine, theirs = people
    drink = usual(mine)

    saved = save(mine, drink)
    again = save(mine, {**drink, "name": "Monday"})
    listed = mine.get("/api/favourites")

    assert (saved.status_code, again.status_code, listed.status_code) == (201, 200, 200)
    body = assert_documented("post", "/api/favourites", saved)
    assert (body["name"], body["product_id"], body["option_ids"]) == (
        "My usual",
        drink["product_id"],
        sorted(drink["option_ids"]),
    )
    shown = assert_documented("get", "/api/favourites", listed)["results"]
    assert [(f["id"], f["name"]) for f in shown] == [(body["id"], "Monday")]
    assert theirs.get("/api/favourites").json() == {"results": []}
    gone = theirs.delete(f"/api/favourites/{body['id']}")
    assert gone.status_code == 404
    assert [f["id"] for f in mine.get("/api/favourites").json()["results"]] == [body["id"]]
    assert mine.delete(f"/api/favourites/{body['id']}").status_code == 204
    assert mine.get("/api/favourites").json() == {"results": []}


def test_a_drink_the_menu_lacks_is_refused_in_orders_words(people) -> None:
    mine, _ = people

    response = save(mine, {**usual(mine), "option_ids": []})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"] == {"option_ids": ["Choose exactly 1 Size."]}
    assert mine.get("/api/favourites").json() == {"results": []}


def test_without_the_csrf_header_or_a_session_nothing_is_saved(people) -> None:
    mine, _ = people
    user_id = mine.get("/api/session").json()["user"]["id"]
    no_header = signed_in(user_id, csrf_header=False)

    refused = save(no_header, usual(mine))
    anonymous = Client().get("/api/favourites")

    assert refused.status_code == 403
    assert anonymous.status_code == 401
    assert mine.get("/api/favourites").json() == {"results": []}


def test_a_cup_name_and_note_reach_the_order_and_a_bad_one_is_named(people) -> None:
    mine, _ = people
    body = {"lines": [latte_line(mine)], "payment_method": "pm_card_visa"}

    placed = mine.post(
        "/api/orders",
        data={**body, "cup_name": "<b>Sam</b>", "note": "Oat, extra hot"},
        content_type="application/json",
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    refused = mine.post(
        "/api/orders",
        data={**body, "cup_name": "Sam\r\nSmith"},
        content_type="application/json",
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )

    assert placed.status_code == 201
    order = assert_documented("post", "/api/orders", placed)
    assert (order["cup_name"], order["note"]) == ("<b>Sam</b>", "Oat, extra hot")
    assert order["lines"][0]["product_id"] == body["lines"][0]["product_id"]
    assert mine.get(f"/api/orders/{order['id']}").json()["cup_name"] == "<b>Sam</b>"
    assert refused.status_code == 400
    assert refused.json()["errors"] == {"cup_name": ["No line breaks or control characters."]}
    assert len(mine.get("/api/orders").json()["results"]) == 1
