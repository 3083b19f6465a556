"""The manager's Menu page: what it shows, what its buttons and forms send, and an open
menu refreshing on the stream's `menu` event."""

from __future__ import annotations

import asyncio
import copy
import json

import pytest
from coffeeshop_client.api import ApiClient
from coffeeshop_client.app import App
from coffeeshop_client.prices import pence_parse

from tests.wasm_client.fakes import MENU, FakeBff, FakePlatform


def make(fragment: str, roles: tuple[str, ...]) -> tuple[App, FakeBff, FakePlatform]:
    bff = FakeBff(roles=roles)
    platform = FakePlatform(fragment)
    return App(ApiClient(bff), platform), bff, platform


def oat_sold_out() -> dict:
    menu = copy.deepcopy(MENU)
    for category in menu["categories"]:
        for product in category["products"]:
            for group in product.get("option_groups", []):
                for option in group["options"]:
                    if option["name"] == "Oat":
                        option["is_available"] = False
    return menu


def test_a_manager_sees_every_product_variation_and_option_with_its_price_and_state():
    app, _bff, platform = make("#/manage/menu", ("manager", "barista"))

    asyncio.run(app.start())

    html = platform.view_html
    assert 'data-testid="manage-menu-heading"' in html
    assert 'data-testid="nav-manage-menu"' in platform.nav_html
    assert 'id="price-product-1" name="base_price" value="3.20"' in html
    assert "Espresso &amp; steamed milk</textarea>" in html
    assert 'id="price-variation-2" name="price_delta" value="0.80"' in html
    assert 'id="price-option-2" name="price_delta" value="0.45"' in html
    # Soy is sold out: its button puts it back; Oat's marks it sold out.
    assert 'data-available="true" data-testid="avail-option-3"' in html
    assert 'data-available="false" data-testid="avail-option-2"' in html
    assert html.count('data-testid="manage-group-1"') == 1  # a shared group is listed once


@pytest.mark.parametrize("roles", [("barista",), ("customer",)])
def test_the_menu_page_is_for_managers_only(roles):
    app, _bff, platform = make("#/manage/menu", roles)

    asyncio.run(app.start())

    assert "Changing the menu is for managers." in platform.view_html
    assert "menu-availability" not in platform.view_html
    assert 'data-testid="nav-manage-menu"' not in platform.nav_html


def test_marking_oat_milk_sold_out_patches_it_and_shows_the_new_menu():
    app, bff, platform = make("#/manage/menu", ("manager",))
    bff.on("PATCH", "/api/manage/options/2", (200, {"id": 2, "name": "Oat", "is_available": False}))

    async def scenario():
        await app.start()
        bff.on("GET", "/api/menu", (200, oat_sold_out()))
        await app.dispatch("menu-availability", {"item": "option", "id": "2", "available": "false"})

    asyncio.run(scenario())

    [sent] = bff.sent("PATCH", "/api/manage/options/2")
    assert json.loads(sent.body) == {"is_available": False}
    assert sent.headers["X-CSRF-Token"] == "csrf-123"
    assert platform.announced[-1] == "Oat is now sold out."
    assert 'data-available="true" data-testid="avail-option-2"' in platform.view_html


def test_saving_a_product_sends_its_price_in_pence_and_its_description():
    app, bff, platform = make("#/manage/menu", ("manager",))
    bff.on("PATCH", "/api/manage/products/1", (200, {"id": 1, "name": "Latte"}))

    async def scenario():
        await app.start()
        await app.dispatch(
            "menu-edit",
            {"item": "product", "id": "1", "base_price": "£3.5", "description": " Silky. "},
        )

    asyncio.run(scenario())

    [sent] = bff.sent("PATCH", "/api/manage/products/1")
    assert json.loads(sent.body) == {"base_price": 350, "description": "Silky."}
    assert platform.announced[-1] == "Latte saved."


def test_a_price_that_is_no_price_is_named_and_nothing_is_sent():
    app, bff, platform = make("#/manage/menu", ("manager",))

    async def scenario():
        await app.start()
        await app.dispatch("menu-edit", {"item": "variation", "id": "2", "price_delta": "lots"})

    asyncio.run(scenario())

    assert bff.sent("PATCH", "/api/manage/variations/2") == []
    assert "Enter a price in pounds and pence, like 4.20." in platform.view_html


def test_the_bffs_refusal_is_shown_beside_the_item():
    app, bff, platform = make("#/manage/menu", ("manager",))
    refusal = {
        "title": "Invalid input",
        "status": 400,
        "detail": "Some fields are wrong.",
        "errors": {"price_delta": ["Must be between -100000 and 100000."]},
    }
    bff.on("PATCH", "/api/manage/options/4", (400, refusal))

    async def scenario():
        await app.start()
        await app.dispatch("menu-edit", {"item": "option", "id": "4", "price_delta": "0.5"})

    asyncio.run(scenario())

    assert (
        "Some fields are wrong. (price_delta: Must be between -100000 and 100000.)"
        in platform.view_html
    )


def test_a_menu_event_on_the_stream_refetches_an_open_menu():
    app, bff, platform = make("", ("customer",))

    async def scenario():
        await app.start()
        bff.on("GET", "/api/menu", (200, oat_sold_out()))
        platform.streams[0].on_event(
            json.dumps({"event": "menu.changed", "item": "option", "id": 2})
        )
        await asyncio.sleep(0.01)

    asyncio.run(scenario())

    assert len(bff.sent("GET", "/api/menu")) == 2
    assert app.state.menu is not None
    latte = app.state.menu.product(1)
    assert latte is not None
    assert [o.is_available for o in latte.option_groups[0].options if o.name == "Oat"] == [False]


@pytest.mark.parametrize(
    ("text", "pence"),
    [("4.20", 420), ("£4.2", 420), ("4", 400), (".5", 50), (" 0.05 ", 5), ("1000.00", 100000)],
)
def test_prices_are_read_in_pounds_and_pence(text, pence):
    assert pence_parse(text) == pence


@pytest.mark.parametrize("text", ["", "lots", "4.205", "-1", "1000.01", "4,20", "£"])
def test_what_is_no_price_is_refused(text):
    assert pence_parse(text) is None


def test_an_extra_may_be_negative():
    assert pence_parse("-0.30", allow_negative=True) == -30
