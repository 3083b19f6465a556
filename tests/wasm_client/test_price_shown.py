"""The price a customer sees is the price of exactly the choice shown (issue 10, "Money").

A menu shaped like the seeded one: a Latte whose flavour is optional (a plain Latte
is orderable at its base price), a required Size group and an optional Milk group.
"""

from __future__ import annotations

import asyncio
from html.parser import HTMLParser
from typing import Any

from coffeeshop_client import customize, router, views
from coffeeshop_client.api import ApiClient
from coffeeshop_client.app import App
from coffeeshop_client.models import Menu, Session
from coffeeshop_client.state import State

from tests.wasm_client.fakes import FakeBff, FakePlatform


def choice(id: int, name: str, delta: int = 0, available: bool = True) -> dict[str, Any]:
    return {"id": id, "name": name, "price_delta": delta, "is_available": available}


SEEDED_LIKE: dict[str, Any] = {
    "currency": "GBP",
    "categories": [
        {
            "id": 1,
            "name": "Coffee",
            "products": [
                {
                    "id": 1,
                    "name": "Latte",
                    "description": "",
                    "base_price": 400,
                    "is_available": True,
                    "allergens": ["milk"],
                    "variation_required": False,
                    "variation_label": "Flavour",
                    "variations": [
                        choice(1, "Pumpkin Spice", 50),
                        choice(2, "Vanilla", 30),
                    ],
                    "option_groups": [
                        {
                            "id": 1,
                            "name": "Size",
                            "min": 1,
                            "max": 1,
                            "options": [choice(1, "Small"), choice(2, "Large", 80)],
                        },
                        {
                            "id": 2,
                            "name": "Milk",
                            "min": 0,
                            "max": 1,
                            "options": [choice(3, "Whole"), choice(4, "Oat", 40)],
                        },
                    ],
                },
                {
                    "id": 2,
                    "name": "Espresso",
                    "description": "",
                    "base_price": 250,
                    "is_available": True,
                    "allergens": [],
                    "variation_required": True,
                    "variation_label": "Shot",
                    "variations": [choice(5, "Single", 0, False), choice(6, "Double", 100)],
                    "option_groups": [],
                },
            ],
        }
    ],
}
MENU = Menu.from_json(SEEDED_LIKE)
LATTE = MENU.product(1)
ESPRESSO = MENU.product(2)
assert LATTE is not None
assert ESPRESSO is not None


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.legends: list[str] = []
        self._in_legend = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "legend":
            self._in_legend += 1
            self.legends.append("")

    def handle_endtag(self, tag):
        if tag == "legend":
            self._in_legend -= 1

    def handle_data(self, data):
        if self._in_legend:
            self.legends[-1] += data


def parse(markup: str) -> Tags:
    tags = Tags()
    tags.feed(markup)
    return tags


def product_page(product_id: int) -> str:
    s = State(menu=MENU, session_loaded=True, route=router.parse(f"#/product/{product_id}"))
    product = MENU.product(product_id)
    assert product is not None
    s.selection = customize.default_selection(product)
    return views.page(s)


def test_a_plain_latte_is_the_default_and_orderable_at_its_base_price():
    selection = customize.default_selection(LATTE)

    assert selection == customize.Selection(1, None, (1,))  # no flavour, Small, no milk
    assert customize.problems(LATTE, selection) == []
    assert '<span class="price" data-testid="live-price" aria-live="polite">£4.00</span>' in (
        product_page(1)
    )


def test_a_required_variation_starts_on_the_first_available_one():
    selection = customize.default_selection(ESPRESSO)

    assert selection.variation_id == 6
    assert customize.problems(ESPRESSO, customize.Selection(2, None)) == ["Choose a shot."]


def test_optional_choices_start_on_none_and_none_can_be_chosen_again():
    page = parse(product_page(1))
    inputs = {a["id"]: a for t, a in page.tags if t == "input" and "id" in a}

    assert "checked" in inputs["variation-none"]
    assert "checked" not in inputs["variation-1"]
    assert "checked" in inputs["group-2-none"]
    assert inputs["option-3"]["type"] == "radio"  # milk is one choice of several, or none
    assert "group-1-none" not in inputs  # size is required: no "None"

    flavoured = customize.choose_variation(LATTE, customize.default_selection(LATTE), 1)
    with_oat = customize.toggle_option(LATTE, flavoured, 4)
    assert (with_oat.variation_id, with_oat.option_ids) == (1, (1, 4))
    assert customize.choose_variation(LATTE, with_oat, 0).variation_id is None
    assert customize.clear_group(LATTE, with_oat, 2).option_ids == (1,)
    assert customize.clear_group(LATTE, with_oat, 1) == with_oat  # required: not cleared


def test_each_group_of_choices_is_named_from_the_data_and_no_two_names_are_alike():
    page = parse(product_page(1))
    legends = [" ".join(text.split()) for text in page.legends]

    assert legends == ["Flavour Optional", "Size Choose 1", "Milk Optional"]
    assert [a["id"] for t, a in page.tags if t == "legend"] == [
        "legend-variation",
        "legend-group-1",
        "legend-group-2",
    ]


def test_the_menu_card_shows_the_price_of_what_its_add_button_puts_in_the_cart():
    bff = FakeBff()
    bff.on("GET", "/api/menu", (200, SEEDED_LIKE))
    platform = FakePlatform("")
    app = App(ApiClient(bff), platform)

    async def scenario() -> None:
        await app.start()
        await app.dispatch("quick-add", {"product": "1"})
        await app.dispatch("quick-add", {"product": "2"})

    asyncio.run(scenario())

    card_prices = [
        a for t, a in parse(views.page(app.state)).tags if a.get("data-testid") == "menu-price"
    ]
    assert len(card_prices) == 2
    menu_html = views.page(app.state)
    assert ">£4.00<" in menu_html
    assert ">£3.50<" in menu_html
    assert [
        (line.product_id, line.variation_id, line.option_ids) for line in app.state.cart.lines
    ] == [
        (1, None, (1,)),
        (2, 6, ()),
    ]
    app.state.route = router.parse("#/cart")
    app.state.session = Session.anonymous()
    cart_html = views.page(app.state)
    assert '<strong class="price" data-testid="cart-total">£7.50</strong>' in cart_html
