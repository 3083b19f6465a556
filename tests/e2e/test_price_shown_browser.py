"""Issue 10 ("Money") in a real browser: the price on the menu card is the price of what
its "Add" puts in the cart, a plain Latte is orderable, and each group of choices on
the customise page has its own name.

A visitor needs no account for any of this (the cart lives in the browser).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from devstack.browser import CHROMIUM_ARGS, ensure_chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = ensure_chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            args=[a for a in CHROMIUM_ARGS if a != "--headless"],
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def bff(system: dict[str, Any]) -> str:
    return f"http://127.0.0.1:{system['ports']['bff']}"


def test_the_latte_card_price_is_what_add_puts_in_the_cart_and_each_group_has_its_own_name(
    browser: Browser, bff: str
) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(bff + "/")
    latte = page.get_by_test_id("menu-item").filter(has_text="Latte").first
    expect(latte.get_by_test_id("menu-price")).to_have_text("£4.00", timeout=60_000)

    latte.get_by_test_id("quick-add").click()
    page.get_by_role("link", name="Cart, 1 items").click()

    line = page.get_by_test_id("cart-line")
    expect(line).to_have_count(1)
    expect(line.locator("strong")).to_have_text("Latte")
    expect(line.locator(".details")).to_have_text("Small")  # no flavour, no milk chosen
    expect(page.get_by_test_id("cart-total")).to_have_text("£4.00")

    page.goto(bff + "/#/menu")
    page.get_by_test_id("menu-item").filter(has_text="Latte").first.get_by_test_id(
        "customise"
    ).click()
    expect(page.get_by_test_id("product-name")).to_have_text("Latte")
    groups = page.get_by_role("group")
    for name in ("Flavour", "Size", "Milk", "Extra shot"):
        expect(groups.filter(has=page.locator("legend", has_text=name))).to_have_count(1)
    legends = [text.split()[0] for text in page.locator("legend").all_inner_texts()]
    assert legends == ["Flavour", "Size", "Milk", "Extra"]
    expect(page.locator("#variation-none")).to_be_checked()
    expect(page.get_by_test_id("live-price")).to_have_text("£4.00")
    page.get_by_label("Pumpkin Spice").check()
    expect(page.get_by_test_id("live-price")).to_have_text("£4.50")
    page.locator("#variation-none").check()
    expect(page.get_by_test_id("live-price")).to_have_text("£4.00")
    context.close()
