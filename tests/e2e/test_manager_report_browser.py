"""Issue 11, a manager's "Today" page in Chromium against `manage_all.py up`: a customer
places and pays orders, the manager presses Refresh and the takings, the order count,
the orders-per-hour chart and the best sellers show them; another day is picked with
the date picker. Screenshots go to COFFEESHOP_SCREENSHOTS when it is set."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from devstack.browser import CHROMIUM_ARGS, ensure_chromium
from devstack.cli import demo_password
from devstack.stack import Stack
from tests.e2e.chromium import app_sign_in

SHOTS = (
    Path(os.environ["COFFEESHOP_SCREENSHOTS"]) if os.environ.get("COFFEESHOP_SCREENSHOTS") else None
)
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


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


def _shot(page: Page, name: str) -> None:
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _sign_in(page: Page, bff: str, email: str, password: str) -> None:
    page.goto(bff + "/")
    app_sign_in(page, email=email, password=password)
    expect(page.get_by_test_id("user-name")).to_be_visible(timeout=60_000)


def _fetch(page: Page, method: str, path: str, body: Any = None, **headers: str) -> Any:
    """A same-origin API call from the signed-in page (its cookie, its CSRF token)."""
    return page.evaluate(
        """async ([method, path, body, headers]) => {
            const session = await (await fetch('/api/session')).json();
            const init = {method, headers: {'X-CSRF-Token': session.csrf_token,
                                            'Content-Type': 'application/json', ...headers}};
            if (body !== null) init.body = JSON.stringify(body);
            const response = await fetch(path, init);
            return {status: response.status, body: await response.json()};
        }""",
        [method, path, body, headers],
    )


def _two_lines(page: Page) -> list[dict[str, Any]]:
    """A line of each of the menu's first two available products, with the first
    available choice of each required option group (and variation)."""
    menu = _fetch(page, "GET", "/api/menu")["body"]
    lines = []
    for category in menu["categories"]:
        for product in category["products"]:
            if not product["is_available"]:
                continue
            line: dict[str, Any] = {"product_id": product["id"], "quantity": 1}
            variations = [v for v in product["variations"] if v["is_available"]]
            if variations:
                line["variation_id"] = variations[0]["id"]
            line["option_ids"] = [
                option["id"]
                for group in product["option_groups"]
                for option in [o for o in group["options"] if o["is_available"]][: group["min"]]
            ]
            lines.append({**line, "name": product["name"]})
    assert len(lines) >= 2, "the demo menu has two products on sale"
    return lines[:2]


def test_a_manager_sees_new_paid_orders_on_the_today_page(
    browser: Browser, bff: str, system_stack: Stack
) -> None:
    password = demo_password(system_stack)
    manager_ctx = browser.new_context(viewport=DESKTOP)
    manager = manager_ctx.new_page()
    _sign_in(manager, bff, "manager@coffeeshop.local", password)
    manager.get_by_test_id("nav-report").click()
    expect(manager.get_by_test_id("report-heading")).to_have_text("Today")
    expect(manager.get_by_test_id("report-orders")).to_be_visible(timeout=30_000)
    before = _fetch(manager, "GET", "/api/manage/report?top=20")["body"]

    customer_ctx = browser.new_context(viewport=DESKTOP)
    customer = customer_ctx.new_page()
    _sign_in(customer, bff, "customer@coffeeshop.local", password)
    first, second = _two_lines(customer)
    placed = []
    for lines in ([first], [first, {**second, "quantity": 2}], [first]):
        answer = _fetch(
            customer,
            "POST",
            "/api/orders",
            {
                "lines": [{k: v for k, v in line.items() if k != "name"} for line in lines],
                "payment_method": "pm_card_visa",
            },
            **{"Idempotency-Key": f"report-e2e-{time.time_ns()}"},
        )
        assert answer["status"] == 201, answer
        placed.append(answer["body"])
    deadline = time.monotonic() + 60
    for order in placed:  # the payment worker charges each
        while _fetch(customer, "GET", f"/api/orders/{order['id']}")["body"]["status"] != "placed":
            assert time.monotonic() < deadline, f"order {order['id']} was not paid"
            time.sleep(0.5)

    manager.get_by_test_id("report-refresh").click()

    after = _fetch(manager, "GET", "/api/manage/report?top=20")["body"]
    assert after["orders"] == before["orders"] + 3
    assert after["takings"] == before["takings"] + sum(o["total"] for o in placed)
    expect(manager.get_by_test_id("report-orders")).to_have_text(str(after["orders"]))
    takings = manager.get_by_test_id("report-takings")
    expect(takings).to_have_text(f"£{after['takings'] // 100}.{after['takings'] % 100:02d}")
    hour = int(time.strftime("%H", time.gmtime()))  # the stack's TIME_ZONE is UTC
    chart = manager.get_by_test_id("report-hours-chart")
    expect(chart).to_have_attribute("role", "img")
    bars = chart.locator("rect.bar")
    expect(bars.first).to_be_visible()
    hours = [int(h) for h in bars.evaluate_all("bars => bars.map(b => b.dataset.hour)")]
    assert hour in hours or (hour - 1) % 24 in hours  # an hour may turn meanwhile

    def sold(report: dict[str, Any], name: str) -> int:
        return sum(s["quantity"] for s in report["best_sellers"] if s["name"] == name)

    # The first product went into all three orders, the second twice in one.
    assert sold(after, first["name"]) - sold(before, first["name"]) == 3
    assert sold(after, second["name"]) - sold(before, second["name"]) == 2
    # The chart shows the day's top five, most sold first, as the BFF answers them.
    top = [s["name"] for s in after["best_sellers"][:5]]
    day = date.fromisoformat(after["date"])
    sellers = manager.get_by_test_id("report-sellers-chart")
    expect(sellers.locator("text.label")).to_have_count(len(top))
    expect(sellers).to_have_attribute(
        "aria-label",
        f"Best sellers on {day:%A} {day.day} {day:%B %Y}, most sold first: "
        + "; ".join(f"{s['name']}, {s['quantity']} sold" for s in after["best_sellers"][:5])
        + ".",
    )
    manager.get_by_text("Best sellers as a table").click()
    table = manager.get_by_test_id("report-sellers-table")
    expect(table.locator("tbody th")).to_have_text(top)
    _shot(manager, "manager-report-desktop")
    manager.set_viewport_size(PHONE)
    _shot(manager, "manager-report-phone")
    manager.set_viewport_size(DESKTOP)

    manager.get_by_test_id("report-date").fill("2001-01-01")
    manager.get_by_test_id("report-show").click()
    expect(manager.get_by_test_id("report-heading")).to_have_text(
        "Report for Monday 1 January 2001", timeout=30_000
    )
    expect(manager.get_by_test_id("report-orders")).to_have_text("0")
    assert "2001-01-01" in manager.url
    _shot(manager, "manager-report-empty-day")
    print(json.dumps({"before": before["orders"], "after": after["orders"]}))
    customer_ctx.close()
    manager_ctx.close()
