"""Issue 11 in a real browser (Chromium, against `manage_all.py up`): a manager finds an
order by the customer's e-mail and refunds part of it.

A new customer registers and pays for a donut with the sandbox card; the manager (a
second browser context) searches the Orders page by that e-mail, opens the order (lines,
Visa ending 4242, history), refunds £1.00 of it with a reason and confirms. The card is
refunded once, for exactly that amount, at the payment sandbox; the customer gets the
part-refund e-mail in the SMTP sink; the order is not marked refunded in full.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from email.header import decode_header, make_header

import pytest
from playwright.sync_api import Browser, expect

from devstack.cli import demo_password
from devstack.servers.smtp import read_messages
from devstack.stack import Stack
from tests.e2e.test_browser_journey import DESKTOP, Watch, _shot, _sign_in, bff, browser

__all__ = ["bff", "browser"]  # the module fixtures, shared with the customer journey
# The whole system starts first (`up`, a few minutes on a busy machine).
pytestmark = pytest.mark.timeout(900)

PROVIDER_REFUNDS = """
import json, httpx
from django.conf import settings
from order_site.payments.models import Payment
payment = Payment.objects.get(order_id={order_id}, status="succeeded")
answer = httpx.get(
    settings.PAYMENT_PROVIDER_URL + "/v1/refunds",
    params={{"payment_intent": payment.provider_reference}},
    headers={{"Authorization": "Bearer " + settings.PAYMENT_PROVIDER_KEY}},
    timeout=10,
)
print(json.dumps([[r["amount"], r["status"]] for r in answer.json()["data"]]))
"""


def provider_refunds(stack: Stack, order_id: int) -> list[list[object]]:
    """(amount, status) of every refund the payment sandbox holds for the order's charge."""
    out = stack.manage("order", "shell", "-c", PROVIDER_REFUNDS.format(order_id=order_id))
    return list(json.loads(out.strip().splitlines()[-1]))


def subject(message: object) -> str:
    """A mail's subject as read (RFC 2047 encoded words decoded: "£" travels encoded)."""
    return str(make_header(decode_header(str(message["Subject"]))))  # type: ignore[index]


def test_a_manager_finds_an_order_by_the_customers_email_and_refunds_part_of_it(
    browser: Browser, bff: str, system_stack: Stack
) -> None:
    customer_ctx = browser.new_context(viewport=DESKTOP)
    page = customer_ctx.new_page()
    page.goto(bff + "/")
    expect(page.get_by_test_id("menu-item").first).to_be_visible(timeout=60_000)
    email = f"refund-{uuid.uuid4().hex[:8]}@example.test"
    page.get_by_test_id("register").first.click()
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Your name").fill("Rita Refund")
    page.get_by_label("Password", exact=True).fill("a-long-Password-2026")
    page.get_by_label("Password again").fill("a-long-Password-2026")
    page.get_by_role("button", name=re.compile("Create", re.I)).click()
    expect(page.get_by_test_id("user-name")).to_have_text("Rita Refund", timeout=60_000)
    # This journey is about the manager's refund: the customer orders once Python runs
    # the page. (Right after registering, an add made while Python takes the page over
    # was lost once in a clean-clone run after the start-up queue fix: open in issue
    # 16's note; test_sign_out_and_access.py taps at once.)
    expect(page.locator("html")).not_to_have_class(re.compile("is-booting"), timeout=90_000)
    page.get_by_test_id("menu-item").filter(has_text="Donuts").first.get_by_test_id(
        "customise"
    ).click()
    page.get_by_test_id("add-to-cart").click()
    page.get_by_role("link", name=re.compile(r"^Cart")).first.click()
    page.get_by_test_id("go-to-checkout").click()
    page.get_by_test_id("card-number").fill("4242 4242 4242 4242")
    page.get_by_test_id("card-expiry").fill("12/40")
    page.get_by_test_id("card-cvc").fill("123")
    page.get_by_test_id("checkout-button").click()
    expect(page.get_by_test_id("order-status").first).to_have_attribute(
        "data-status", "placed", timeout=60_000
    )
    order_id = int(page.url.rsplit("/", 1)[-1])
    order = page.evaluate(f"() => fetch('/api/orders/{order_id}').then(r => r.json())")
    number, total = order["number"], order["total"]
    assert total > 100

    manager_ctx = browser.new_context(viewport=DESKTOP)
    manager_watch = Watch(manager_ctx)
    desk = manager_ctx.new_page()
    desk.goto(bff + "/")
    _sign_in(desk, "manager@coffeeshop.local", demo_password(system_stack))
    expect(desk.get_by_test_id("user-name")).to_be_visible(timeout=60_000)
    desk.get_by_test_id("nav-manage-orders").click()
    expect(desk.get_by_test_id("manage-orders-heading")).to_be_visible(timeout=30_000)
    desk.get_by_test_id("find-email").fill(email.upper())  # any case finds it
    found = desk.get_by_test_id(f"found-link-{order_id}")
    # Order learns the new customer's e-mail from Identity's user event: a moment.
    deadline = time.monotonic() + 60
    while True:
        desk.get_by_test_id("find-orders").click()
        try:
            expect(found).to_be_visible(timeout=3_000)
            break
        except AssertionError:
            assert time.monotonic() < deadline, "the new customer's order was not found"
    _shot(desk, "manager-orders-found")
    found.click()

    expect(desk.get_by_test_id("manage-order-heading")).to_have_text(f"Order {number}")
    expect(desk.get_by_test_id("manage-payment")).to_contain_text("Visa ending 4242")
    expect(desk.get_by_test_id("manage-history")).to_contain_text("payment captured")
    expect(desk.get_by_test_id("manage-order-summary")).to_contain_text(email)
    desk.get_by_test_id("refund-amount").fill("1.00")
    desk.get_by_test_id("refund-reason").fill("The donut was stale")
    desk.get_by_test_id("refund-review").click()
    expect(desk.get_by_test_id("refund-confirm-box")).to_contain_text(
        f"Refund £1.00 of £{total // 100}.{total % 100:02d} to Visa ending 4242"
    )
    _shot(desk, "manager-refund-confirm")
    desk.get_by_test_id("refund-confirm").click()
    expect(desk.get_by_test_id("refund-done")).to_contain_text(
        f"Refund of £1.00 requested for order {number}"
    )
    expect(desk.get_by_test_id("manage-refunds")).to_contain_text("The donut was stale")
    _shot(desk, "manager-refund-done")

    deadline = time.monotonic() + 60
    while provider_refunds(system_stack, order_id) != [[100, "succeeded"]]:
        assert time.monotonic() < deadline, provider_refunds(system_stack, order_id)
        time.sleep(1)
    deadline = time.monotonic() + 60
    while not (
        mails := [
            m
            for m in read_messages(system_stack.maildir)
            if m["To"] == email and "refunded" in subject(m)
        ]
    ):
        assert time.monotonic() < deadline, "no refund e-mail for the customer"
        time.sleep(0.5)
    assert [subject(m) for m in mails] == [f"Order {number}: £1.00 refunded"]
    desk.reload()  # Python boots again: on a busy machine that takes more than 5 s
    expect(desk.get_by_test_id("manage-refunds")).to_contain_text(
        "£1.00 (succeeded)", timeout=60_000
    )
    expect(desk.get_by_test_id("manage-refunded")).to_have_text("£1.00")
    # A part refund: once, and the order is not refunded in full.
    assert provider_refunds(system_stack, order_id) == [[100, "succeeded"]]
    shown = page.evaluate(f"() => fetch('/api/orders/{order_id}').then(r => r.json())")
    assert shown["refunded"] is False
    manager_watch.assert_private()
    customer_ctx.close()
    manager_ctx.close()
