from __future__ import annotations

from coffeeshop_client import customize
from coffeeshop_client.models import Menu

from tests.wasm_client.fakes import MENU

LATTE = Menu.from_json(MENU).product(1)
assert LATTE is not None


def test_default_selection_takes_first_available_size_and_required_options():
    selection = customize.default_selection(LATTE)

    assert selection.variation_id == 1
    assert selection.option_ids == (1,)  # milk is required (min 1); syrup is not
    assert customize.problems(LATTE, selection) == []


def test_single_choice_group_replaces_the_choice():
    selection = customize.toggle_option(LATTE, customize.default_selection(LATTE), 2)

    assert selection.option_ids == (2,)


def test_required_single_choice_cannot_be_cleared():
    selection = customize.default_selection(LATTE)

    assert customize.toggle_option(LATTE, selection, 1) == selection


def test_multi_choice_group_refuses_more_than_its_maximum():
    selection = customize.default_selection(LATTE)
    for option_id in (4, 5, 6):
        selection = customize.toggle_option(LATTE, selection, option_id)

    assert selection.option_ids == (1, 4, 5)
    assert customize.toggle_option(LATTE, selection, 4).option_ids == (1, 5)


def test_unavailable_size_and_option_cannot_be_chosen():
    selection = customize.default_selection(LATTE)

    assert customize.choose_variation(LATTE, selection, 3) == selection
    assert customize.toggle_option(LATTE, selection, 3) == selection


def test_problems_name_what_is_missing():
    selection = customize.Selection(product_id=1, variation_id=None, option_ids=())

    assert customize.problems(LATTE, selection) == [
        "Choose a size.",
        "Milk: choose at least 1 option.",
    ]


def test_group_hints():
    milk, syrup = LATTE.option_groups

    assert customize.group_hint(milk) == "Choose 1"
    assert customize.group_hint(syrup) == "Optional, up to 2"


def test_quantity_stays_between_one_and_twenty():
    selection = customize.default_selection(LATTE)

    assert customize.set_quantity(selection, 0).quantity == 1
    assert customize.set_quantity(selection, 25).quantity == 20
