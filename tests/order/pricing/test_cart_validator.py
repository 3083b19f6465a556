"""shared/cart.py on its own: plain data in, the same answers whichever side built the menu."""

from __future__ import annotations

from typing import Any

import pytest

from shared.cart import (
    CartInvalid,
    CartLine,
    cart_check,
    cart_lines_parse,
    catalogue_from_menu,
    errors_flatten,
)


def product(groups_key: str) -> dict[str, Any]:
    low, high = ("min_selections", "max_selections") if groups_key == "order" else ("min", "max")
    return {
        "id": 1,
        "name": "Latte",
        "base_price": 400,
        "currency": "GBP",
        "is_available": True,
        "variation_required": False,
        "variations": [{"id": 7, "name": "Vanilla", "price_delta": 30, "is_available": True}],
        "option_groups": [
            {
                "id": 1,
                "name": "Size",
                low: 1,
                high: 1,
                "options": [
                    {"id": 1, "name": "Small", "price_delta": 0, "is_available": True},
                    {"id": 2, "name": "Large", "price_delta": 80, "is_available": True},
                ],
            }
        ],
    }


@pytest.mark.parametrize(
    "menu",
    [
        [{"products": [product("order")]}],  # Order's GET /api/menu
        {"currency": "GBP", "categories": [{"products": [product("bff")]}]},  # the BFF's
    ],
)
def test_either_menu_shape_gives_the_same_prices_and_refusals(menu: Any):
    catalogue = catalogue_from_menu(menu)

    checked = cart_check(lines=[CartLine(1, 3, 7, (2,))], catalogue=catalogue)
    with pytest.raises(CartInvalid) as refused:
        cart_check(lines=[CartLine(1, 1, None, (1, 2))], catalogue=catalogue)

    assert (checked.total, checked.lines[0].unit_price) == (3 * 510, 510)
    assert refused.value.errors == {"lines[0].option_ids": ["Choose exactly 1 Size."]}


def test_a_plain_line_parses_with_its_defaults():
    assert cart_lines_parse([{"product_id": 1, "quantity": 2}]) == (CartLine(1, 2, None, ()),)


def test_an_unknown_field_name_is_cut_short_in_the_error():
    with pytest.raises(CartInvalid) as refused:
        cart_lines_parse([{"product_id": 1, "quantity": 1, "x" * 5000: 1}])

    assert refused.value.errors == {f"lines[0].{'x' * 40}…": ["Unknown field."]}


def test_drf_errors_are_named_flat():
    nested = {
        "lines": {0: {"quantity": ["A valid integer is required."]}, 2: {"option_ids": {1: ["x"]}}},
        "payment_method": ["This field is required."],
    }

    assert errors_flatten(nested) == {
        "lines[0].quantity": ["A valid integer is required."],
        "lines[2].option_ids[1]": ["x"],
        "payment_method": ["This field is required."],
    }
