"""Issue 11 in a real browser: a manager signs into Order's and the BFF's Django admin
with their own CoffeeShop (Identity) login, and gets the Refund action there; a barista
is refused with a page saying why.

Chromium on the whole system: the admin's login page → "Sign in with CoffeeShop" →
Identity's login form → back to the admin (OIDC code flow with PKCE, the site its own
confidential client). The order the manager refunds is a customer's, placed and paid
through the BFF as the web client does.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from devstack.cli import demo_password
from devstack.stack import Stack
from shared.pricing import format_money
from tests.e2e.browserless import browser_client, sign_in
from tests.e2e.cards import card_token
from tests.e2e.chromium import DESKTOP, chromium_launch, shot, within

# The first test also waits for `up` (minutes on a busy machine).
pytestmark = pytest.mark.timeout(900)

REFUND = "Refund in full (with a reason)"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium_launch() as launched:
        yield launched


@pytest.fixture(scope="module")
def sites(system: dict[str, Any]) -> dict[str, str]:
    return {
        part: f"http://127.0.0.1:{system['ports'][part]}" for part in ("bff", "order", "identity")
    }


@pytest.fixture(scope="module")
def paid_order(sites: dict[str, str], system_stack: Stack) -> dict[str, Any]:
    """A customer's order, placed and paid through the BFF (the card tokenized at the
    provider, as the web client does)."""
    customer = browser_client(sites["bff"])
    sign_in(customer, email="customer@coffeeshop.local", password=demo_password(system_stack))
    csrf = customer.get("/api/session").json()["csrf_token"]
    menu = customer.get("/api/menu").json()
    donut = next(p for c in menu["categories"] for p in c["products"] if p["name"] == "Donuts")
    line = {
        "product_id": donut["id"],
        "variation_id": donut["variations"][0]["id"],
        "option_ids": [],
        "quantity": 1,
    }
    placed = customer.post(
        "/api/orders",
        json={"lines": [line], "payment_method": card_token(customer)},
        headers={"X-CSRF-Token": csrf, "Idempotency-Key": f"admin-journey-{time.time_ns()}"},
    )
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["id"]

    def paid() -> bool:
        return customer.get(f"/api/orders/{order_id}").json()["status"] == "placed"

    within(60, paid, "the order paid")
    return {"client": customer, **customer.get(f"/api/orders/{order_id}").json()}


def _sign_in_with_coffeeshop(
    page: Page, site: str, identity: str, email: str, password: str
) -> None:
    """The admin's login page → "Sign in with CoffeeShop" → Identity's form → back."""
    page.goto(site + "/admin/")
    assert urlsplit(page.url).path == "/admin/login/"
    expect(page.get_by_role("link", name="Sign in with CoffeeShop")).to_be_visible()
    shot(page, f"admin-login-{urlsplit(site).port}")
    page.get_by_role("link", name="Sign in with CoffeeShop").click()
    expect(page.get_by_label("Password")).to_be_visible(timeout=30_000)
    assert page.url.startswith(identity + "/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


def _action_choices(page: Page) -> list[str]:
    return [t.strip() for t in page.locator('select[name="action"] option').all_inner_texts()]


def test_a_manager_signs_into_orders_and_the_bffs_admin_with_their_identity_login_and_can_refund(
    browser: Browser, sites: dict[str, str], system_stack: Stack, paid_order: dict[str, Any]
) -> None:
    password = demo_password(system_stack)
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()

    _sign_in_with_coffeeshop(
        page, sites["order"], sites["identity"], "manager@coffeeshop.local", password
    )
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    assert page.url == sites["order"] + "/admin/"
    expect(page.locator("#user-tools")).to_contain_text("Maya Manager")
    shot(page, "admin-order-signed-in")

    # The Refund action is offered on both lists where a manager finds an order.
    page.goto(sites["order"] + "/admin/payments/payment/")
    assert REFUND.replace("Refund", "Refund the order") in _action_choices(page)
    page.goto(sites["order"] + f"/admin/orders/order/?id__exact={paid_order['id']}")
    assert REFUND in _action_choices(page)
    shot(page, "admin-order-orders-list")

    # And it works: the order is refunded in full, once, with the manager's reason.
    page.locator(f'input[name="_selected_action"][value="{paid_order["id"]}"]').check()
    page.locator('select[name="action"]').select_option(label=REFUND)
    page.get_by_role("button", name="Go").click()
    page.get_by_label("Reason").fill("Customer complained about the wait")
    shot(page, "admin-order-refund-reason")
    page.get_by_role("button", name="Refund").click()
    expect(page.locator("ul.messagelist")).to_contain_text(
        f"Order {paid_order['id']}: refund of {format_money(paid_order['total'], 'GBP')} requested."
    )
    shot(page, "admin-order-refund-requested")
    customer: httpx.Client = paid_order["client"]
    within(
        60,
        lambda: customer.get(f"/api/orders/{paid_order['id']}").json()["refunded"] is True,
        "the order refunded",
    )

    # The BFF's admin: Identity still knows the manager, so no password is asked again.
    page.goto(sites["bff"] + "/admin/")
    assert urlsplit(page.url).path == "/admin/login/"
    page.get_by_role("link", name="Sign in with CoffeeShop").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible(timeout=30_000)
    assert page.url == sites["bff"] + "/admin/"
    expect(page.locator("#user-tools")).to_contain_text("Maya Manager")
    shot(page, "admin-bff-signed-in")
    context.close()


def test_a_barista_is_refused_orders_admin_with_a_page_saying_why(
    browser: Browser, sites: dict[str, str], system_stack: Stack
) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()

    _sign_in_with_coffeeshop(
        page,
        sites["order"],
        sites["identity"],
        "barista@coffeeshop.local",
        demo_password(system_stack),
    )

    expect(page.get_by_role("heading", name="No admin access")).to_be_visible()
    expect(page.get_by_text("it is for managers")).to_be_visible()
    assert urlsplit(page.url).path == "/admin/oidc/callback"
    shot(page, "admin-order-barista-refused")
    page.goto(sites["order"] + "/admin/orders/order/")
    assert urlsplit(page.url).path == "/admin/login/"  # still not signed in
    context.close()
