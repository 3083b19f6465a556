"""A menu a person wants to read (issue 17): each product's photo, description, dietary
badges and calories on the menu card, and on the product page the calories of the size
chosen and the badges of the drink as chosen (oat milk makes a latte vegan)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from coffeeshop_client import product_facts, router, views
from coffeeshop_client.customize import default_selection, toggle_option
from coffeeshop_client.models import Menu
from coffeeshop_client.state import State

from shared.dietary import BADGES, badges_for, unknown_badges
from shared.photos import PHOTOS, unknown_photo

SMALL, MEDIUM, LARGE, WHOLE, OAT = 11, 12, 13, 21, 22
FILES = {
    "latte": "photos/latte.0123456789ab.svg",
    "donuts": "photos/donuts.ba9876543210.svg",
    "espresso": "photos/espresso.aaaaaaaaaaaa.svg",
}


def group(id: int, name: str, low: int, high: int, options: list[dict[str, Any]]) -> dict:
    return {"id": id, "name": name, "min": low, "max": high, "options": options}


def option(id: int, name: str, delta: int = 0, **extra: Any) -> dict[str, Any]:
    return {"id": id, "name": name, "price_delta": delta, "is_available": True, **extra}


SIZE = group(
    1,
    "Size",
    1,
    1,
    [option(SMALL, "Small"), option(MEDIUM, "Medium", 40), option(LARGE, "Large", 80)],
)
MILK = group(
    2,
    "Milk",
    0,
    1,
    [
        option(WHOLE, "Whole", allergens=["milk"], removes_allergens=["milk"]),
        option(OAT, "Oat", 40, allergens=["gluten"], removes_allergens=["milk"]),
    ],
)


def product(id: int, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": id,
        "name": name,
        "description": "",
        "base_price": 300,
        "is_available": True,
        "allergens": [],
        "variation_required": False,
        "variations": [],
        "option_groups": [],
        **extra,
    }


MENU = {
    "currency": "GBP",
    "categories": [
        {
            "id": 1,
            "name": "Coffee",
            "products": [
                product(
                    1,
                    "Latte",
                    description="A double shot under steamed milk.",
                    allergens=["milk"],
                    option_groups=[SIZE, MILK],
                    photo="latte",
                    badges=["vegan_with_plant_milk", "caffeine"],
                    calories=[
                        {"size_id": SMALL, "kcal": 140},
                        {"size_id": MEDIUM, "kcal": 190},
                        {"size_id": LARGE, "kcal": 250},
                    ],
                ),
                product(
                    2,
                    "Espresso",
                    option_groups=[SIZE],
                    photo="espresso",
                    badges=["vegan", "caffeine"],
                    calories=[{"size_id": SMALL, "kcal": 3}, {"size_id": LARGE, "kcal": 3}],
                ),
                product(3, "Tea"),
            ],
        },
        {
            "id": 2,
            "name": "Bakery",
            "products": [
                product(
                    4,
                    "Donuts",
                    photo="donuts",
                    badges=["vegetarian"],
                    calories=[{"size_id": None, "kcal": 260}],
                ),
                # A photo this build does not ship (the catalogue is older than Order's).
                product(5, "Scone", photo="scone"),
            ],
        },
    ],
}


@pytest.fixture(autouse=True)
def photo_files() -> Iterator[None]:
    product_facts.photo_files_set(FILES)
    yield
    product_facts.photo_files_set(None)


def menu_state() -> State:
    return State(menu=Menu.from_json(MENU), session_loaded=True)


def product_state(product_id: int) -> State:
    s = menu_state()
    s.route = router.parse(f"/product/{product_id}")
    chosen = s.menu.product(product_id)  # type: ignore[union-attr]
    assert chosen is not None
    s.selection = default_selection(chosen)
    return s


def card(html: str, name: str) -> str:
    """The menu card of `name`: from its <li> to the next card or the end of its list."""
    start = html.index(f'data-product-name="{name}"')
    start = html.rindex("<li", 0, start)
    ends = [
        i
        for i in (html.find('data-testid="menu-item"', start + 40), html.find("</section>", start))
        if i >= 0
    ]
    return html[start : min(ends)]


def test_each_card_shows_its_photo_at_its_drawn_size_with_words_for_who_cannot_see_it():
    html = views.page(menu_state())

    latte = card(html, "Latte")
    assert (
        '<img src="/photos/latte.0123456789ab.svg" alt="A latte in a tall glass, a leaf drawn '
        'in its foam" width="480" height="360" decoding="async" class="product-photo" '
        'data-testid="product-photo">'
    ) in latte
    assert 'class="product has-photo"' in latte


def test_the_first_cards_photos_load_at_once_and_those_further_down_lazily():
    html = views.page(menu_state())

    assert 'loading="lazy"' not in card(html, "Latte")
    assert 'loading="lazy"' not in card(html, "Espresso")
    assert 'loading="lazy"' in card(html, "Donuts")


def test_a_product_without_a_photo_or_with_one_this_build_lacks_shows_no_broken_image():
    html = views.page(menu_state())

    for name in ("Tea", "Scone"):
        assert "<img" not in card(html, name)
        assert "has-photo" not in card(html, name)


def test_cards_show_the_description_the_badges_and_the_calories_over_the_sizes():
    html = views.page(menu_state())

    latte = card(html, "Latte")
    assert '<p class="description">A double shot under steamed milk.</p>' in latte
    assert (
        '<li class="diet diet-vegan-with-plant-milk" data-testid="diet-badge" '
        'data-badge="vegan_with_plant_milk">Vegan with plant milk</li>'
    ) in latte
    assert 'data-badge="caffeine">Contains caffeine</li>' in latte
    assert '<p class="kcal" data-testid="menu-calories">140\u2013250 kcal</p>' in latte
    assert 'data-testid="menu-calories">3 kcal</p>' in card(html, "Espresso")
    assert 'data-testid="menu-calories">260 kcal</p>' in card(html, "Donuts")
    assert 'data-badge="vegetarian">Vegetarian</li>' in card(html, "Donuts")


def test_a_product_with_no_badges_and_no_calories_shows_neither():
    tea = card(views.page(menu_state()), "Tea")

    assert "diet-badges" not in tea
    assert "kcal" not in tea


def test_the_product_page_shows_the_photo_at_once_the_description_and_the_chosen_sizes_calories():
    s = product_state(1)  # Small is chosen first: the group needs one
    assert SMALL in s.selection.option_ids  # type: ignore[union-attr]

    html = views.page(s)

    assert '<img src="/photos/latte.0123456789ab.svg"' in html
    assert 'class="product-hero-photo"' in html
    assert 'loading="lazy"' not in html
    assert "A double shot under steamed milk." in html
    assert '<p class="kcal" data-testid="calories" aria-live="polite">140 kcal (Small)</p>' in html


def test_choosing_another_size_changes_the_calories_shown():
    s = product_state(1)
    latte = s.menu.product(1)  # type: ignore[union-attr]
    assert latte is not None

    s.selection = toggle_option(latte, s.selection, LARGE)  # type: ignore[arg-type]
    large = views.page(s)
    s.selection = toggle_option(latte, s.selection, MEDIUM)
    medium = views.page(s)

    assert 'data-testid="calories" aria-live="polite">250 kcal (Large)</p>' in large
    assert 'data-testid="calories" aria-live="polite">190 kcal (Medium)</p>' in medium


def test_a_size_without_calories_given_shows_none_rather_than_another_sizes():
    s = product_state(2)
    espresso = s.menu.product(2)  # type: ignore[union-attr]
    assert espresso is not None

    s.selection = toggle_option(espresso, s.selection, MEDIUM)  # type: ignore[arg-type]

    assert 'data-testid="calories"' not in views.page(s)
    assert product_facts.calories_chosen(espresso, s.selection) is None


def test_oat_milk_makes_a_latte_vegan_and_whole_milk_does_not():
    s = product_state(1)
    latte = s.menu.product(1)  # type: ignore[union-attr]
    assert latte is not None

    as_it_comes = product_facts.badges(latte, s.selection)
    s.selection = toggle_option(latte, s.selection, WHOLE)  # type: ignore[arg-type]
    whole = product_facts.badges(latte, s.selection)
    s.selection = toggle_option(latte, s.selection, OAT)
    oat = product_facts.badges(latte, s.selection)
    page = views.page(s)

    assert as_it_comes == [
        ("vegan_with_plant_milk", "Vegan with plant milk"),
        ("caffeine", "Contains caffeine"),
    ]
    assert whole == as_it_comes
    assert oat == [("vegan", "Vegan"), ("caffeine", "Contains caffeine")]
    assert 'data-badge="vegan">Vegan</li>' in page


def test_a_plant_milk_does_not_make_vegan_what_has_milk_besides():
    cake = {"badges": ["vegan_with_plant_milk"], "allergens": ["milk"]}
    oat = {"allergens": ["gluten"], "removes_allergens": ["milk"]}
    cream = {"allergens": ["milk"], "removes_allergens": []}

    assert badges_for(cake, None, [oat]) == ["vegan"]
    assert badges_for(cake, None, [oat, cream]) == ["vegan_with_plant_milk"]
    assert badges_for({"badges": ["caffeine", "vegan", "glitter"]}) == [
        "vegan",
        "caffeine",
        "glitter",
    ]


def test_the_badge_and_photo_lists_refuse_what_they_do_not_hold():
    assert list(BADGES) == ["vegan", "vegan_with_plant_milk", "vegetarian", "caffeine"]
    assert unknown_badges(["vegan", "keto"]) == ["keto"]
    assert unknown_photo("latte") is None
    assert unknown_photo("") is None
    assert unknown_photo("https://example.com/latte.jpg") == "https://example.com/latte.jpg"
    assert all(photo.width == 480 and photo.height == 360 for photo in PHOTOS.values())


def test_without_the_builds_photo_map_no_photo_is_drawn():
    product_facts.photo_files_set({})
    latte = Menu.from_json(MENU).product(1)
    assert latte is not None

    assert product_facts.photo(latte) is None
    assert "<img" not in views.page(menu_state())
