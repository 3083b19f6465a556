"""`POST /api/cart/price`: the preview refuses what Order's placement refuses, in the
same words (shared/cart.py), answers only checked fields, and prices the rest.

Order runs here for real (migrated, demo menu seeded) on the test stack's Order port;
the BFF reads the menu from it as it does in production.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from bff_site.clients.http import order_service
from devstack.base import Process
from devstack.stack import Stack
from shared.cart import LINES_CAP_MESSAGE, MAX_ITEMS, MAX_LINES


@pytest.fixture(scope="module")
def order(test_stack: Stack) -> Iterator[Process]:
    """A running Order site with the demo menu."""
    test_stack.manage("order", "migrate", "--noinput")
    test_stack.manage("order", "seed_menu")
    test_stack.restart_site("order")
    process = test_stack.process("order")
    assert process is not None
    try:
        yield process
    finally:
        process.stop(timeout=10)


@pytest.fixture
def menu(order: Process) -> dict[str, Any]:
    cache.clear()
    order_service.cache_clear()
    order_service().breaker.reset()  # type: ignore[union-attr]
    response = Client().get("/api/menu")
    assert response.status_code == 200
    return dict(response.json())


def ids(menu: dict[str, Any]) -> dict[str, int]:
    """`Latte` → product id, `Latte/Vanilla` → variation id, `Milk/Oat` → option id."""
    found: dict[str, int] = {}
    for category in menu["categories"]:
        for product in category["products"]:
            found[product["name"]] = product["id"]
            for variation in product["variations"]:
                found[f"{product['name']}/{variation['name']}"] = variation["id"]
            for group in product["option_groups"]:
                for option in group["options"]:
                    found[f"{group['name']}/{option['name']}"] = option["id"]
    return found


def price(body: Any, content_type: str = "application/json") -> Any:
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return Client().post("/api/cart/price", data=data, content_type=content_type)


def refused(body: Any) -> dict[str, Any]:
    response = price(body)
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"] == "application/problem+json"
    return dict(response.json())


def test_a_valid_cart_is_priced_and_only_checked_fields_come_back(menu):
    n = ids(menu)
    line = {
        "product_id": n["Latte"],
        "variation_id": None,
        "option_ids": [n["Size/Medium"], n["Milk/Oat"]],
        "quantity": 2,
    }

    response = price({"lines": [line]})

    assert response.status_code == 200
    assert response.json() == {
        "currency": "GBP",
        "total": 960,
        "lines": [{**line, "unit_price": 480, "line_total": 960}],
    }


def test_three_choices_in_a_choose_one_group_are_refused_as_order_refuses_them(menu):
    n = ids(menu)
    line = {
        "product_id": n["Latte"],
        "option_ids": [n["Size/Small"], n["Size/Medium"], n["Size/Large"]],
        "quantity": 1,
    }

    body = refused({"lines": [line]})

    assert body["detail"] == "Some lines cannot be ordered."
    assert body["errors"] == {"lines[0].option_ids": ["Choose exactly 1 Size."]}


def test_a_missing_required_variation_is_refused(menu):
    n = ids(menu)
    line = {"product_id": n["Espresso"], "option_ids": [n["Size/Small"]], "quantity": 1}

    assert refused({"lines": [line]})["errors"] == {
        "lines[0].variation_id": ["Choose one of: Single, Double."]
    }


@pytest.mark.parametrize("quantity", [True, "2", 2.0, 0, 21])
def test_a_quantity_that_is_not_a_whole_number_from_1_to_20_is_refused(menu, quantity):
    n = ids(menu)
    line = {"product_id": n["Donuts"], "variation_id": n["Donuts/Glazed"], "quantity": quantity}
    expected = {
        0: "Ensure this value is greater than or equal to 1.",
        21: "Ensure this value is less than or equal to 20.",
    }.get(quantity if type(quantity) is int else -1, "A valid integer is required.")

    assert refused({"lines": [line]})["errors"] == {"lines[0].quantity": [expected]}


def test_unknown_fields_are_refused_and_never_echoed(menu):
    n = ids(menu)
    line = {"product_id": n["Donuts"], "variation_id": n["Donuts/Glazed"], "quantity": 1}
    note = "x" * 1_000_000

    response = price({"lines": [{**line, "gift": True}], "note": note})

    assert response.status_code == 400
    assert response.json()["errors"] == {"note": ["Unknown field."]}
    assert len(response.content) < 1000


def test_an_unknown_field_of_a_line_is_named(menu):
    n = ids(menu)
    line = {"product_id": n["Donuts"], "variation_id": n["Donuts/Glazed"], "quantity": 1}

    assert refused({"lines": [{**line, "gift": True}]})["errors"] == {
        "lines[0].gift": ["Unknown field."]
    }


def test_twenty_thousand_lines_are_refused_with_the_cap(menu):
    n = ids(menu)
    line = {"product_id": n["Donuts"], "variation_id": n["Donuts/Glazed"], "quantity": 1}

    body = refused({"lines": [line] * 20_000})

    assert body["detail"] == "The request has invalid fields."
    assert body["errors"] == {"lines": [LINES_CAP_MESSAGE]}
    assert LINES_CAP_MESSAGE == "An order holds at most 20 lines and 50 items in all."


def test_more_items_than_the_cap_are_refused_saying_how_many(menu):
    n = ids(menu)
    line = {"product_id": n["Donuts"], "variation_id": n["Donuts/Glazed"], "quantity": 20}
    message = (
        f"An order holds at most {MAX_LINES} lines and {MAX_ITEMS} items in all; "
        "this one has 60 items."
    )

    body = refused({"lines": [line, line, line]})

    assert body["errors"] == {"lines": [message]}


def test_a_body_that_is_not_json_is_refused_with_415(menu):
    n = ids(menu)
    body = json.dumps({"lines": [{"product_id": n["Donuts"], "quantity": 1}]})

    response = price(body, content_type="text/plain")

    assert response.status_code == 415
    assert response["Content-Type"] == "application/problem+json"
    assert response["Accept-Post"] == "application/json"
    assert response.json()["detail"] == "Send the cart as application/json."


def test_the_menu_names_each_products_group_of_variations(menu):
    products = {p["name"]: p for c in menu["categories"] for p in c["products"]}

    assert {name: p["variation_label"] for name, p in products.items()} == {
        "Latte": "Flavour",
        "Espresso": "Shot",
        "Macchiato": "Flavour",
        "Iced Coffee": "Style",
        "Donuts": "Flavour",
    }
    assert products["Latte"]["variation_required"] is False
    assert [(g["name"], g["min"], g["max"]) for g in products["Latte"]["option_groups"]] == [
        ("Size", 1, 1),
        ("Milk", 0, 1),
        ("Extra shot", 0, 1),
    ]
