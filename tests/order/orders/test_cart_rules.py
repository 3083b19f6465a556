"""Placement and the BFF's price preview refuse the same carts in the same words.

Both check with `shared.cart.cart_check`; here Order's placement answers are compared
with what that validator says about the same cart against the menu as the BFF serves
it (Order's menu API through the BFF's own menu shaping), and the order-level caps
(20 lines, 50 items) are checked on placement.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bff_site.clients.order import _menu_view
from order_site.menu.selectors import pricing_menu, pricing_menu_forget
from order_site.orders.models import Order, OrderLine, OrderStatusChange
from order_site.outbox.models import OutboxEvent
from shared.cart import CartInvalid, cart_check, cart_lines_parse, catalogue_from_menu
from tests.order.conftest import donut_line, latte_line, option, product, variation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_copy():
    pricing_menu_forget()
    yield
    pricing_menu_forget()


def place(client: Any, body: Any, key: str = "key-1") -> Any:
    """Place with the sandbox's token added to an object body (payment is required)."""
    if isinstance(body, dict) and "payment_method" not in body:
        body = {**body, "payment_method": "pm_card_visa"}
    return client.post("/api/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def nothing_written() -> tuple[int, int, int, int]:
    return (
        Order.objects.count(),
        OrderLine.objects.count(),
        OrderStatusChange.objects.count(),
        OutboxEvent.objects.count(),
    )


def preview_errors(client: Any, lines: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    """What the BFF's preview says about these lines: the shared validator against the
    menu the BFF serves (Order's `GET /api/menu`, shaped by the BFF's client)."""
    menu = _menu_view(list(client.get("/api/menu/").json()))
    try:
        cart_check(lines=cart_lines_parse(lines), catalogue=catalogue_from_menu(menu))
    except CartInvalid as err:
        return err.detail, err.errors
    raise AssertionError("the preview accepted the cart")


def bad_carts() -> list[list[dict[str, Any]]]:
    sizes = [option("Size", name).id for name in ("Small", "Medium", "Large")]
    return [
        [{"product_id": 10**12, "quantity": 1}],
        [{**latte_line(1), "option_ids": sizes}],
        [{**latte_line(1), "option_ids": [sizes[0], sizes[0]]}],
        [{"product_id": product("Espresso").id, "option_ids": sizes[:1], "quantity": 1}],
        [{**donut_line(1), "variation_id": variation("Latte", "Vanilla").id}],
        [{**donut_line(1), "option_ids": [option("Milk", "Oat").id]}],
        [donut_line(20), donut_line(20), latte_line(11)],
    ]


def test_placement_refuses_each_bad_cart_exactly_as_the_preview_does(menu, client_for, customer):
    client = client_for(customer)
    for lines in bad_carts():
        detail, errors = preview_errors(client, lines)

        response = place(client, {"lines": lines})

        assert response.status_code == 400, lines
        assert (response.json()["detail"], response.json()["errors"]) == (detail, errors)
    assert nothing_written() == (0, 0, 0, 0)


def malformed_bodies() -> list[dict[str, Any]]:
    donut = donut_line(1)
    return [
        {},
        {"lines": None},
        {"lines": []},
        {"lines": "latte"},
        {"lines": [donut] * 21},
        {"lines": [donut, 7]},
        {"lines": [{**donut, "quantity": True}, {**donut, "product_id": "3"}]},
        {"lines": [{"variation_id": 2.5, "option_ids": [0, "x", 3], "quantity": None}]},
        {"lines": [{**donut, "option_ids": None}, {**donut, "option_ids": 4}]},
        {"lines": [{**donut, "option_ids": list(range(1, 22))}]},
        {"lines": [{**donut, "product_id": 2**63, "quantity": 0}, {**donut, "quantity": 21}]},
    ]


def test_a_malformed_body_is_refused_by_placement_naming_what_the_preview_names(
    menu, client_for, customer
):
    client = client_for(customer)
    for body in malformed_bodies():
        try:
            cart_lines_parse(body.get("lines"), present="lines" in body)
        except CartInvalid as err:
            expected = err.errors
        else:
            raise AssertionError(f"the preview accepted {body}")

        response = place(client, body)

        assert response.status_code == 400, body
        assert response.json()["errors"] == expected, body
    assert nothing_written() == (0, 0, 0, 0)


def test_more_than_fifty_items_are_refused_saying_the_cap(menu, client_for, customer):
    response = place(
        client_for(customer), {"lines": [donut_line(20), donut_line(20), latte_line(11)]}
    )

    message = "An order holds at most 20 lines and 50 items in all; this one has 51 items."
    assert response.status_code == 400
    assert response.json()["errors"] == {"lines": [message]}
    assert nothing_written() == (0, 0, 0, 0)


def test_fifty_items_are_fine(menu, client_for, customer):
    response = place(
        client_for(customer), {"lines": [donut_line(20), donut_line(20), latte_line(10)]}
    )

    assert response.status_code == 201
    assert response.json()["total"] == 40 * 250 + 10 * 550


def test_more_than_twenty_lines_are_refused_saying_the_cap(menu, client_for, customer):
    response = place(client_for(customer), {"lines": [donut_line(1)] * 21})

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "lines": ["An order holds at most 20 lines and 50 items in all."]
    }
    assert nothing_written() == (0, 0, 0, 0)


@pytest.mark.parametrize("quantity", [True, "2", 2.0])
def test_a_quantity_must_be_a_json_integer(menu, client_for, customer, quantity):
    response = place(client_for(customer), {"lines": [{**donut_line(1), "quantity": quantity}]})

    assert response.status_code == 400
    assert response.json()["errors"] == {"lines[0].quantity": ["A valid integer is required."]}
    assert nothing_written() == (0, 0, 0, 0)


def test_the_validator_s_menu_is_built_once_per_load_of_the_pricing_copy(menu):
    ids = {product("Latte").id}
    first = pricing_menu(product_ids=ids, option_ids=set())

    with CaptureQueriesContext(connection) as queries:
        again = pricing_menu(product_ids=ids, option_ids=set())

    assert len(queries) == 0
    assert again.catalogue is first.catalogue
    latte = first.catalogue.products[product("Latte").id]
    assert (latte.name, latte.base_price, latte.variation_required) == ("Latte", 400, False)
    assert [g.name for g in latte.groups] == ["Size", "Milk", "Extra shot"]
