"""Allergens of a drink as chosen: `shared/allergens.py` (Pyodide-safe, also used by Order's
receipt) and the customise page's line, which changes with the milk."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from coffeeshop_client import allergens, router, views
from coffeeshop_client.customize import default_selection, toggle_option
from coffeeshop_client.models import Menu
from coffeeshop_client.state import State

from shared.allergens import ALLERGENS, allergen_line, allergens_for, unknown_allergens
from tests.wasm_client.fakes import MENU

WHOLE, OAT = 1, 2


def menu_with_milk_allergens() -> dict[str, Any]:
    menu = copy.deepcopy(MENU)
    milk = menu["categories"][0]["products"][0]["option_groups"][0]
    milk["options"][0].update(allergens=["milk"], removes_allergens=["milk"])
    milk["options"][1].update(allergens=["gluten"], removes_allergens=["milk"])
    milk["options"][2].update(allergens=["soybeans"], removes_allergens=["milk"])
    return menu


def test_the_list_is_the_fourteen_uk_and_eu_allergens_in_the_regulations_order():
    assert list(ALLERGENS.values()) == [
        "celery",
        "cereals containing gluten",
        "crustaceans",
        "eggs",
        "fish",
        "lupin",
        "milk",
        "molluscs",
        "mustard",
        "tree nuts",
        "peanuts",
        "sesame",
        "soybeans",
        "sulphites",
    ]
    assert unknown_allergens(["milk", "nuts", "egg"]) == ["nuts", "egg"]


def test_an_option_adds_its_allergens_and_replaces_what_it_stands_in_for():
    latte = {"allergens": ["milk"]}
    oat = {"allergens": ["gluten"], "removes_allergens": ["milk"]}
    almond = {"allergens": ["tree_nuts"], "removes_allergens": ["milk"]}
    shot: dict[str, Any] = {"allergens": []}

    assert allergens_for(latte, None, []) == ["milk"]
    assert allergens_for(latte, None, [oat, shot]) == ["gluten"]
    assert allergens_for(latte, None, [almond]) == ["tree_nuts"]
    assert allergens_for(latte, {"allergens": ["sulphites"]}, [oat]) == ["gluten", "sulphites"]


def test_objects_work_like_the_menus_json_and_unknown_keys_are_kept_last():
    @dataclass
    class Thing:
        allergens: list[str] = field(default_factory=list)
        removes_allergens: list[str] = field(default_factory=list)

    donut = Thing(["soybeans", "milk", "gluten", "eggs", "glitter"])

    assert allergens_for(donut, None, [Thing(["sesame"])]) == [
        "gluten",
        "eggs",
        "milk",
        "sesame",
        "soybeans",
        "glitter",
    ]


def test_allergen_line_reads_as_a_sentence_with_labels():
    assert (
        allergen_line(["gluten", "tree_nuts"]) == "Contains: cereals containing gluten, tree nuts."
    )
    assert allergen_line([]) == "No allergens declared."


def test_customise_page_shows_the_allergens_of_the_chosen_milk_and_changes_with_it():
    s = State(menu=Menu.from_json(menu_with_milk_allergens()), session_loaded=True)
    s.route = router.parse("#/product/1")
    latte = s.menu.product(1)  # type: ignore[union-attr]
    assert latte is not None
    s.selection = default_selection(latte)  # whole milk: the group needs one choice
    assert WHOLE in s.selection.option_ids

    whole_page = views.page(s)
    s.selection = toggle_option(latte, s.selection, OAT)
    oat_page = views.page(s)

    assert (
        '<p class="allergens" data-testid="allergens" aria-live="polite">Contains: milk.</p>'
        in whole_page
    )
    assert (
        '<p class="allergens" data-testid="allergens" aria-live="polite">'
        "Contains: cereals containing gluten.</p>"
    ) in oat_page
    assert allergens.chosen_line(latte, s.selection) == "Contains: cereals containing gluten."


def test_menu_card_shows_the_products_own_allergens_with_labels():
    s = State(menu=Menu.from_json(MENU), session_loaded=True)

    html = views.page(s)

    assert '<p class="allergens">Contains: cereals containing gluten.</p>' in html
    assert '<p class="allergens">Contains: milk.</p>' in html
