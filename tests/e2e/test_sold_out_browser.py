"""Issue 11 in a real browser: a manager marks oat milk sold out on the web client's Menu
page, and a customer's menu, open in another browser, drops it within 2 s; a cart built
before is refused with a clear message; marking it back brings it back.

Two Chromium contexts (two people, two sessions) on the whole system: the manager's
click PATCHes through the BFF to Order, which announces `menu.changed` through its
outbox and Kafka; `bff-live` drops the BFF's cached menu and sends `event: menu` to
every open stream; the customer's page refetches the menu and draws it again.

The 2 s are timed in the browsers themselves, on the machine's one clock: from the
manager's click (a capturing listener on the manager's page) to the moment the
customer's Oat choice changes (a MutationObserver on the customer's page), so neither
Playwright's polling nor the time to take screenshots is counted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from devstack.cli import demo_password
from devstack.stack import Stack
from tests.e2e.chromium import DESKTOP, app_sign_in, chromium_launch, shot

# The first test also waits for `up` (minutes on a busy machine).
pytestmark = pytest.mark.timeout(900)

# The contract: a sold-out item leaves every customer's open menu within 2 s.
CONTRACT_S = 2.0

CLICK_CLOCK = """() => {
  window.__clickedAt = null;
  document.addEventListener('click', () => { window.__clickedAt = Date.now(); },
                            {capture: true, once: true});
}"""
# Resolves with the time (ms since the epoch) the choice's `disabled` becomes `wanted`.
CHOICE_CLOCK = """([id, wanted]) => {
  window.__changedAt = null;
  const check = () => {
    const input = document.getElementById(id);
    if (window.__changedAt === null && input && input.disabled === wanted) {
      window.__changedAt = Date.now();
    }
  };
  new MutationObserver(check).observe(document.getElementById('app'),
      {subtree: true, childList: true, attributes: true});
}"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium_launch() as launched:
        yield launched


@pytest.fixture(scope="module")
def bff(system: dict[str, Any]) -> str:
    return f"http://127.0.0.1:{system['ports']['bff']}"


def _oat(page: Page) -> int:
    """The id of the Milk group's Oat option, from the menu the page's BFF serves."""
    menu = page.evaluate("() => fetch('/api/menu').then(r => r.json())")
    for category in menu["categories"]:
        for product in category["products"]:
            for group in product["option_groups"]:
                for option in group["options"]:
                    if group["name"] == "Milk" and option["name"] == "Oat":
                        return int(option["id"])
    raise AssertionError("no Oat milk on the menu")


def _open_latte(page: Page) -> None:
    page.get_by_role("link", name="Menu").first.click()
    latte = page.get_by_test_id("menu-item").filter(has_text="Latte").first
    latte.get_by_test_id("customise").click()
    expect(page.get_by_test_id("product-name")).to_have_text("Latte")


def _click_and_time(
    manager: Page, customer: Page, button_id: str, choice_id: str, *, disabled: bool
) -> float:
    """Click the manager's button; seconds until the customer's choice is `disabled`."""
    customer.evaluate(CHOICE_CLOCK, [choice_id, disabled])
    manager.evaluate(CLICK_CLOCK)
    manager.locator(f"#{button_id}").click()
    customer.wait_for_function("() => window.__changedAt !== null", timeout=30_000)
    clicked = manager.evaluate("() => window.__clickedAt")
    changed = customer.evaluate("() => window.__changedAt")
    return (changed - clicked) / 1000


def _pay(page: Page) -> None:
    page.get_by_role("link", name=re.compile(r"^Cart")).first.click()
    page.get_by_test_id("go-to-checkout").click()
    page.get_by_test_id("card-number").fill("4242 4242 4242 4242")
    page.get_by_test_id("card-expiry").fill("12/40")
    page.get_by_test_id("card-cvc").fill("123")
    page.get_by_test_id("checkout-button").click()


def _order_count(page: Page) -> int:
    return len(page.evaluate("() => fetch('/api/orders').then(r => r.json())")["results"])


def test_oat_milk_marked_sold_out_leaves_an_open_menu_within_2_seconds_is_held_and_comes_back(
    browser: Browser, bff: str, system_stack: Stack
) -> None:
    password = demo_password(system_stack)
    customer_ctx = browser.new_context(viewport=DESKTOP)
    customer = customer_ctx.new_page()
    customer.goto(bff + "/")
    app_sign_in(customer, email="customer@coffeeshop.local", password=password)
    expect(customer.get_by_test_id("user-name")).to_be_visible(timeout=60_000)
    oat = _oat(customer)
    choice = customer.locator(f"#option-{oat}")
    # The cart, built while oat milk is on: a Latte with it.
    _open_latte(customer)
    customer.get_by_label(re.compile(r"^Oat")).check()
    customer.get_by_test_id("add-to-cart").click()
    expect(customer.get_by_role("link", name=re.compile(r"^Cart"))).to_contain_text("1")
    orders_before = _order_count(customer)
    # Then the customer looks at the Latte again: its menu is open.
    _open_latte(customer)
    expect(choice).to_be_enabled()

    manager_ctx = browser.new_context(viewport=DESKTOP)
    manager = manager_ctx.new_page()
    manager.goto(bff + "/")
    app_sign_in(manager, email="manager@coffeeshop.local", password=password)
    expect(manager.get_by_test_id("user-name")).to_be_visible(timeout=60_000)
    manager.goto(bff + "/#/manage/menu")
    row = manager.get_by_test_id(f"option-{oat}")
    sold_out = manager.locator(f"#avail-option-{oat}")
    expect(sold_out).to_have_text("Mark sold out", timeout=30_000)
    row.scroll_into_view_if_needed()
    shot(manager, "manager-menu-before")
    try:
        took = _click_and_time(
            manager, customer, f"avail-option-{oat}", f"option-{oat}", disabled=True
        )
        print(f"\nsold out: manager's click → customer's menu {took:.2f}s")
        expect(row).to_contain_text("Sold out")
        expect(sold_out).to_have_text("Back on")
        expect(manager.get_by_test_id("live-region")).to_contain_text("Oat is now sold out.")
        shot(manager, "manager-menu-oat-sold-out")
        expect(choice).to_be_disabled()
        expect(customer.locator(f'label[for="option-{oat}"]')).to_contain_text("(unavailable)")
        shot(customer, "customer-menu-oat-gone")
        assert took <= CONTRACT_S, f"the sold-out Oat left the open menu after {took:.2f}s"

        # The cart from before still holds it: the line is flagged, saying why, and
        # checkout waits until it is removed or the milk is back (issue 17). Order
        # refusing such a placement is tested at its API (test_order_place.py).
        customer.get_by_role("link", name=re.compile(r"^Cart")).first.click()
        flag = customer.get_by_test_id("cart-line-problem")
        expect(flag).to_contain_text("Oat milk is sold out")
        expect(customer.get_by_test_id("go-to-checkout")).to_have_count(0)
        shot(customer, "customer-checkout-refused")
        assert _order_count(customer) == orders_before

        _open_latte(customer)
        expect(choice).to_be_disabled()
        took_back = _click_and_time(
            manager, customer, f"avail-option-{oat}", f"option-{oat}", disabled=False
        )
        print(f"back on: manager's click → customer's menu {took_back:.2f}s")
        expect(sold_out).to_have_text("Mark sold out")
        expect(customer.locator(f'label[for="option-{oat}"]')).not_to_contain_text("(unavailable)")
        shot(customer, "customer-menu-oat-back")
        assert took_back <= CONTRACT_S, f"Oat came back to the open menu after {took_back:.2f}s"
    finally:
        # Whatever happened, oat milk is on the menu again for the journeys after this one.
        manager.evaluate(
            """async (id) => {
              const session = await (await fetch('/api/session')).json();
              await fetch(`/api/manage/options/${id}`, {method: 'PATCH',
                headers: {'Content-Type': 'application/json', 'X-CSRF-Token': session.csrf_token},
                body: JSON.stringify({is_available: true})});
            }""",
            oat,
        )

    # The same cart now goes through.
    _pay(customer)
    status = customer.get_by_test_id("order-status").first
    expect(status).to_have_attribute("data-status", "placed", timeout=60_000)
    assert _order_count(customer) == orders_before + 1
    customer_ctx.close()
    manager_ctx.close()
