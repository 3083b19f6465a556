from __future__ import annotations

from coffeeshop_client import prices
from coffeeshop_client.models import Menu

from tests.wasm_client.fakes import MENU

LATTE = Menu.from_json(MENU).product(1)
assert LATTE is not None


def test_line_price_adds_size_and_option_deltas_times_quantity():
    # 320 base + 80 large + 45 oat + 50 vanilla = 495, times 2
    assert prices.price_line(LATTE, 2, (2, 4), 2, "GBP") == (495, 990)


def test_line_with_quantity_out_of_range_has_no_price():
    assert prices.price_line(LATTE, 1, (1,), 21, "GBP") is None


def test_money_and_deltas_are_formatted_for_people():
    assert prices.format_money(450, "GBP") == "£4.50"
    assert prices.format_money(5, "EUR") == "€0.05"
    assert prices.format_delta(45, "GBP") == "+£0.45"
    assert prices.format_delta(-20, "GBP") == "-£0.20"
    assert prices.format_delta(0, "GBP") == ""
