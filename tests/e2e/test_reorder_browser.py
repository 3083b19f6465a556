"""Issue 17 in a real browser, on the whole system (`manage_all.py up`): the name on the
cup and the note reach the barista's queue card (escaped: the name is HTML); a regular
saves their latte as "my usual" and reorders it in two taps; "Order again" on a past
order puts its lines back at today's prices and flags the one whose oat milk is sold out.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from devstack.cli import demo_password
from devstack.stack import Stack
from tests.e2e.chromium import DESKTOP, app_sign_in, chromium_launch, shot

# The first test also waits for `up` (minutes on a busy machine).
pytestmark = pytest.mark.timeout(900)

PHONE: ViewportSize = {"width": 390, "height": 844}
CUP_NAME = "<img src=x>Nia"  # 14 characters: a name that is also HTML
NOTE = "Extra hot & no lid, please"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium_launch() as launched:
        yield launched


@pytest.fixture(scope="module")
def bff(system: dict[str, Any]) -> str:
    return f"http://127.0.0.1:{system['ports']['bff']}"


def _register(page: Page) -> None:
    page.get_by_test_id("register").first.click(timeout=90_000)
    page.get_by_label("E-mail address").fill(f"regular-{uuid.uuid4().hex[:8]}@example.test")
    page.get_by_label("Your name").fill("Rita Regular")
    page.get_by_label("Password", exact=True).fill("a-long-Password-2026")
    page.get_by_label("Password again").fill("a-long-Password-2026")
    page.get_by_role("button", name=re.compile("Create", re.I)).click()
    expect(page.get_by_test_id("user-name")).to_have_text("Rita Regular", timeout=60_000)
    _python_runs(page)


def _python_runs(page: Page) -> None:
    """Wait until Python has taken the page over (its forms are then its own)."""
    expect(page.locator("html")).not_to_have_class(re.compile("is-booting"), timeout=90_000)


def _card(page: Page) -> None:
    page.get_by_test_id("card-number").fill("4242 4242 4242 4242")
    page.get_by_test_id("card-expiry").fill("12/40")
    page.get_by_test_id("card-cvc").fill("123")


def _oat(page: Page) -> int:
    menu = page.evaluate("() => fetch('/api/menu').then(r => r.json())")
    for category in menu["categories"]:
        for product in category["products"]:
            for group in product["option_groups"]:
                for option in group["options"]:
                    if group["name"] == "Milk" and option["name"] == "Oat":
                        return int(option["id"])
    raise AssertionError("no Oat milk on the menu")


def _set_available(manager: Page, option_id: int, available: bool) -> None:
    status = manager.evaluate(
        """async ([id, available]) => {
          const session = await (await fetch('/api/session')).json();
          const answer = await fetch(`/api/manage/options/${id}`, {method: 'PATCH',
            headers: {'Content-Type': 'application/json', 'X-CSRF-Token': session.csrf_token},
            body: JSON.stringify({is_available: available})});
          return answer.status;
        }""",
        [option_id, available],
    )
    assert status == 200


def _both_sizes(page: Page, name: str) -> None:
    shot(page, f"{name}-desktop")
    page.set_viewport_size(PHONE)
    shot(page, f"{name}-phone")
    page.set_viewport_size(DESKTOP)


def test_cup_name_reaches_the_queue_a_usual_is_reordered_in_two_taps_and_order_again_flags(
    browser: Browser, bff: str, system_stack: Stack
) -> None:
    password = demo_password(system_stack)
    customer_ctx = browser.new_context(viewport=DESKTOP)
    page = customer_ctx.new_page()
    page.goto(bff + "/")
    _register(page)
    oat = _oat(page)

    # A Large oat latte: in the cart, and saved as "my usual" from the product page.
    page.get_by_test_id("menu-item").filter(has_text="Latte").first.get_by_test_id(
        "customise"
    ).click()
    expect(page.get_by_test_id("product-name")).to_have_text("Latte")
    page.get_by_label(re.compile(r"^Large")).check()
    page.get_by_label(re.compile(r"^Oat")).check()
    page.get_by_test_id("favourite-name").fill("Monday latte")
    page.get_by_test_id("save-favourite").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Saved Monday latte as my usual")
    _both_sizes(page, "customer-save-usual")
    page.get_by_test_id("add-to-cart").click()
    expect(page.get_by_role("link", name=re.compile(r"^Cart"))).to_contain_text("1")

    # Checkout with a name for the cup (that is also HTML) and a note.
    page.get_by_role("link", name=re.compile(r"^Cart")).first.click()
    page.get_by_test_id("go-to-checkout").click()
    page.get_by_test_id("cup-name").fill(CUP_NAME)
    page.get_by_test_id("note").fill(NOTE)
    _card(page)
    _both_sizes(page, "customer-checkout-cup-name")
    page.get_by_test_id("checkout-button").click()
    status = page.get_by_test_id("order-status").first
    expect(status).to_have_attribute("data-status", "placed", timeout=60_000)
    first_order = page.url.rsplit("/", 1)[-1]
    expect(page.get_by_test_id("order-cup-name")).to_have_text(CUP_NAME)
    expect(page.get_by_test_id("order-note")).to_have_text(NOTE)
    assert page.locator("#app img").count() == 0

    # The barista's card says whose cup it is, as text.
    barista_ctx = browser.new_context(viewport=DESKTOP)
    board = barista_ctx.new_page()
    board.goto(bff + "/")
    app_sign_in(board, email="barista@coffeeshop.local", password=password)
    expect(board.get_by_test_id("user-name")).to_be_visible(timeout=60_000)
    board.goto(bff + "/queue")
    _python_runs(board)
    card = board.locator(f'[data-testid="queue-item"][data-order-id="{first_order}"]').first
    expect(card.get_by_test_id("queue-cup-name")).to_have_text(CUP_NAME, timeout=30_000)
    expect(card.get_by_test_id("queue-note")).to_contain_text(NOTE)
    assert board.locator("#app img").count() == 0
    card.scroll_into_view_if_needed()
    _both_sizes(board, "barista-queue-cup-name")

    # Two taps: "Add" on the usual, then "Checkout" beside it.
    page.get_by_role("link", name="Menu").first.click()
    usual = page.get_by_test_id("usual").filter(has_text="Monday latte")
    expect(usual).to_be_visible()
    for part in ("Latte", "Large", "Oat"):
        expect(usual).to_contain_text(part)
    _both_sizes(page, "customer-usuals")
    usual.get_by_test_id("usual-add").click()  # tap 1
    page.get_by_test_id("usuals-checkout").click()  # tap 2
    expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
    expect(page.locator(".summary li")).to_have_count(1)
    for part in ("1 \u00d7 Latte", "Large", "Oat"):
        expect(page.locator(".summary li").first).to_contain_text(part)
    _card(page)
    page.get_by_test_id("checkout-button").click()
    expect(page.get_by_test_id("order-status").first).to_have_attribute(
        "data-status", "placed", timeout=60_000
    )

    # Oat milk runs out; "Order again" on the first order keeps the latte, flagged.
    page.get_by_role("link", name="Menu").first.click()
    manager_ctx = browser.new_context(viewport=DESKTOP)
    manager = manager_ctx.new_page()
    manager.goto(bff + "/")
    app_sign_in(manager, email="manager@coffeeshop.local", password=password)
    expect(manager.get_by_test_id("user-name")).to_be_visible(timeout=60_000)
    _python_runs(manager)
    try:
        _set_available(manager, oat, False)
        # The customer's open menu learns it live (`event: menu`): the usual is flagged.
        expect(usual.get_by_test_id("usual-problem")).to_contain_text("Oat milk is sold out")
        expect(usual.get_by_test_id("usual-add")).to_be_disabled()
        page.get_by_test_id("nav-orders").click()
        row = page.locator(f'[data-testid="order-row"][data-order-id="{first_order}"]')
        row.get_by_test_id("order-again").click()
        expect(page.get_by_role("heading", name="Your cart")).to_be_visible()
        expect(page.get_by_test_id("notice")).to_contain_text("Oat milk is sold out today.")
        flagged = page.get_by_test_id("cart-line-problem")
        expect(flagged).to_have_count(1)
        expect(flagged).to_contain_text("Oat milk is sold out today.")
        expect(page.get_by_test_id("go-to-checkout")).to_have_count(0)
        expect(page.get_by_test_id("checkout-blocked")).to_be_visible()
        _both_sizes(page, "customer-order-again-flagged")
    finally:
        _set_available(manager, oat, True)
    customer_ctx.close()
    barista_ctx.close()
    manager_ctx.close()
