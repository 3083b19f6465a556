"""shared/pricing.py: the one price function the server and the web client share."""

from __future__ import annotations

import pytest

from shared.pricing import (
    LinePrice,
    PricedLine,
    PricingError,
    format_money,
    price_line,
    price_order,
)


def test_line_price_adds_variation_and_option_deltas_then_multiplies_by_quantity():
    line = PricedLine(base_price=400, quantity=3, variation_delta=30, option_deltas=(80, 40))

    assert price_line(line) == LinePrice(
        unit_price=550, quantity=3, line_total=1650, currency="GBP"
    )


def test_plain_dicts_price_like_dataclasses():
    assert price_line({"base_price": 250, "quantity": 2, "variation_delta": 100}) == LinePrice(
        350, 2, 700, "GBP"
    )


def test_order_total_is_the_sum_of_line_totals():
    price = price_order(
        [
            {"base_price": 400, "quantity": 1, "variation_delta": 30, "option_deltas": [80, 40]},
            {"base_price": 200, "quantity": 2, "variation_delta": 50},
        ]
    )

    assert price.total == 1050
    assert [line.line_total for line in price.lines] == [550, 500]
    assert price.currency == "GBP"


@pytest.mark.parametrize("quantity", [0, -1, 21, 10**9])
def test_quantity_outside_one_to_twenty_has_no_price(quantity):
    with pytest.raises(PricingError, match="quantity must be between 1 and 20"):
        price_line(PricedLine(base_price=100, quantity=quantity))


def test_negative_unit_price_is_refused():
    with pytest.raises(PricingError, match="negative"):
        price_line(PricedLine(base_price=100, quantity=1, option_deltas=(-150,)))


def test_empty_order_and_mixed_currencies_are_refused():
    with pytest.raises(PricingError, match="at least one line"):
        price_order([])
    with pytest.raises(PricingError, match="different currencies"):
        price_order(
            [
                PricedLine(base_price=100, quantity=1, currency="GBP"),
                PricedLine(base_price=100, quantity=1, currency="EUR"),
            ]
        )


def test_money_is_formatted_with_two_minor_digits():
    assert format_money(450, "GBP") == "£4.50"
    assert format_money(5, "EUR") == "€0.05"
    assert format_money(-1234, "XYZ") == "-12.34 XYZ"


def test_pricing_module_imports_nothing_but_the_standard_library():
    import ast
    import pathlib

    import shared.pricing

    tree = ast.parse(pathlib.Path(shared.pricing.__file__).read_text())
    imported = {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    } | {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert imported <= {"__future__", "collections", "dataclasses", "typing"}
