"""A manager's menu edits through the BFF (`PATCH /api/manage/...`): who may, and what a
bad body is told. Refusals are answered by the BFF itself: nothing reaches Order."""

from __future__ import annotations

import json
import time
import uuid
from importlib import import_module
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from bff_site.gateway.selectors import MENU_KEY
from bff_site.sessions.services import TOKENS_KEY, USER_KEY
from shared.problems import TYPE_BASE

CACHED = b'{"currency":"GBP","categories":[]}'  # as the BFF caches it: the JSON it sends
PATHS = ["/api/manage/products/1", "/api/manage/variations/2", "/api/manage/options/3"]


def signed_in(roles: list[str]) -> Client:
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    user_id = str(uuid.uuid4().int % 10**9)
    store[USER_KEY] = {"id": user_id, "email": f"{user_id}@x.test", "name": "Sam", "roles": roles}
    store[TOKENS_KEY] = {
        "access_token": "unused",
        "refresh_token": "unused",
        "id_token": "unused",
        "expires_at": time.time() + 3600,
    }
    store.create()
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = str(store.session_key)
    return client


def patch(client: Client, path: str, body: Any) -> Any:
    return client.patch(path, json.dumps(body), content_type="application/json")


@pytest.fixture
def cached_menu() -> None:
    cache.set(MENU_KEY, CACHED, 600)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("roles", [["barista"], ["customer"]])
def test_only_a_manager_may_change_the_menu(cached_menu: None, path: str, roles: list[str]) -> None:
    response = patch(signed_in(roles), path, {"is_available": False})

    assert response.status_code == 403
    assert response.json() == {
        "type": TYPE_BASE + "forbidden",
        "title": "Forbidden",
        "status": 403,
        "detail": "Only a manager can change the menu."
        if roles == ["barista"]
        else "Only staff can do this.",
    }
    assert cache.get(MENU_KEY) == CACHED


def test_signed_out_menu_edits_need_sign_in(cached_menu: None) -> None:
    response = patch(Client(), PATHS[2], {"is_available": False})

    assert response.status_code == 401
    assert cache.get(MENU_KEY) == CACHED


def test_a_bad_edit_is_refused_naming_each_field_before_order_is_asked(
    cached_menu: None,
) -> None:
    manager = signed_in(["manager", "barista"])

    product = patch(
        manager,
        PATHS[0],
        {"base_price": -5, "description": 7, "is_available": "no", "name": "Tea"},
    )
    option = patch(manager, PATHS[2], {"price_delta": 1.5, "description": "x"})
    empty = patch(manager, PATHS[1], {})

    assert product.status_code == 400
    assert product.json()["errors"] == {
        "base_price": ["Must be between 0 and 100000."],
        "description": ["Must be text."],
        "is_available": ["Must be true or false."],
        "name": ["Cannot be changed here; a product takes description, base_price, is_available."],
    }
    assert option.status_code == 400
    assert option.json()["errors"] == {
        "description": ["Cannot be changed here; an option takes price_delta, is_available."],
        "price_delta": ["Must be a whole number of pence."],
    }
    assert empty.status_code == 400
    assert empty.json()["errors"] == {"body": ["Send one of: price_delta, is_available."]}
    assert cache.get(MENU_KEY) == CACHED


def test_menu_edits_take_only_patch() -> None:
    response = signed_in(["manager"]).get(PATHS[0])

    assert response.status_code == 405


def oat(menu: dict[str, Any]) -> dict[str, Any]:
    return next(
        option
        for category in menu["categories"]
        for product in category["products"]
        for group in product["option_groups"]
        if group["name"] == "Milk"
        for option in group["options"]
        if option["name"] == "Oat"
    )


def test_a_managers_edit_reaches_order_and_the_bffs_menu_at_once(downstreams: None) -> None:
    cache.delete(MENU_KEY)
    manager, customer = signed_in(["manager", "barista"]), signed_in(["customer"])
    before = oat(customer.get("/api/menu").json())
    assert before["is_available"] is True  # and now cached

    try:
        sold_out = patch(manager, f"/api/manage/options/{before['id']}", {"is_available": False})
        shown = oat(customer.get("/api/menu").json())
    finally:
        patch(manager, f"/api/manage/options/{before['id']}", {"is_available": True})

    assert sold_out.status_code == 200
    assert sold_out.json() == {**before, "is_available": False}
    assert shown["is_available"] is False


def test_an_edit_of_an_item_order_does_not_have_is_a_404(downstreams: None) -> None:
    response = patch(signed_in(["manager"]), "/api/manage/products/999999", {"base_price": 100})

    assert response.status_code == 404
    assert response.json()["detail"] == "No product 999999."
