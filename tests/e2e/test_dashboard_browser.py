"""The dashboard of the running system (part `dashboard`, started by `up`), in Chromium:
every part `status --json` names, listed with its health, and a part's logs filtered as
a person would, after a real order was placed and paid through the BFF.

Screenshots (`COFFEESHOP_SCREENSHOTS`): `dashboard` (the README's), and
`dashboard-trace` (the worker's logs of one trace).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from devstack.cli import demo_password
from devstack.stack import Stack
from tests.e2e.browserless import browser_client, sign_in
from tests.e2e.cards import card_token
from tests.e2e.chromium import DESKTOP, chromium_launch, shot, within
from tests.e2e.conftest import _run


@pytest.fixture(scope="module")
def dashboard(system: dict[str, Any]) -> str:
    return f"http://127.0.0.1:{system['ports']['dashboard']}"


@pytest.fixture(scope="module")
def paid_order(system: dict[str, Any], system_stack: Stack) -> int:
    """One order placed and paid by the demo customer through the BFF; its id."""
    customer = browser_client(f"http://127.0.0.1:{system['ports']['bff']}")
    password = demo_password(system_stack)
    assert sign_in(customer, email="customer@coffeeshop.local", password=password).is_success
    product = customer.get("/api/menu").json()["categories"][0]["products"][0]
    line = {
        "product_id": product["id"],
        "variation_id": product["variations"][0]["id"],
        "option_ids": [
            g["options"][0]["id"] for g in product["option_groups"] if g["min_selections"]
        ],
        "quantity": 1,
    }
    csrf = customer.get("/api/session").json()["csrf_token"]
    placed = customer.post(
        "/api/orders",
        json={"lines": [line], "payment_method": card_token(customer)},
        headers={"X-CSRF-Token": csrf, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert placed.status_code == 201, placed.text
    order_id = int(placed.json()["id"])
    within(
        60,
        lambda: customer.get(f"/api/orders/{order_id}").json()["status"] == "placed",
        f"order {order_id} paid",
    )
    return order_id


def _charge_lines(dashboard: str, order_id: int) -> list[dict[str, Any]]:
    """The worker's log lines about the order's charge, through the dashboard's API."""
    answer = httpx.get(
        f"{dashboard}/api/logs",
        params={"part": "worker", "view": "console", "q": f"of order {order_id}:"},
        timeout=20,
    )
    assert answer.status_code == 200, answer.text
    return list(answer.json()["lines"])


def _open(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.get_by_role("heading", name="Resources")).to_be_visible()


def test_every_part_is_listed_with_its_health_and_a_parts_logs_filter_by_text(
    system: dict[str, Any], dashboard: str, paid_order: int
) -> None:
    status = _run(["status", "--json"], system["env"])
    parts = json.loads(status.stdout)["parts"]
    assert "dashboard" in {part["name"] for part in parts}
    within(30, lambda: bool(_charge_lines(dashboard, paid_order)), "the worker's charge line")

    with chromium_launch() as browser:
        page = browser.new_page(viewport=DESKTOP)
        _open(page, f"{dashboard}/")
        rows = page.locator("[data-testid=resources] tbody tr")
        expect(rows).to_have_count(len(parts))
        for part in parts:
            row = page.locator(f"[data-testid=resources] tr[data-part='{part['name']}']")
            expect(row.get_by_test_id("health")).to_have_text(
                "healthy" if part["healthy"] else "unhealthy"
            )
            expect(row.locator("td").nth(1)).to_have_text("running")
        assert all(part["healthy"] for part in parts), parts

        page.get_by_label("Part").select_option("worker")
        page.get_by_label("console").check()
        page.get_by_label("Text").fill(f"of order {paid_order}:")
        page.get_by_role("button", name="Show").click()
        # The filtered view has replaced the first one once its summary names the filter.
        expect(page.get_by_test_id("log-summary")).to_contain_text(f"of order {paid_order}:")
        lines = page.locator("[data-testid=log-lines] li")
        expect(lines.first).to_contain_text(f"of order {paid_order}: succeeded")
        expect(lines).to_have_count(len(_charge_lines(dashboard, paid_order)))
        shot(page, "dashboard")


def test_a_parts_logs_filtered_by_the_trace_id_of_a_paid_order_show_that_trace(
    dashboard: str, paid_order: int
) -> None:
    within(30, lambda: bool(_charge_lines(dashboard, paid_order)), "the worker's charge line")
    traced = [line for line in _charge_lines(dashboard, paid_order) if line["trace_id"]]
    assert traced, "the worker's charge line carries no trace id (shared/telemetry is on)"
    trace = traced[0]["trace_id"]

    with chromium_launch() as browser:
        page = browser.new_page(viewport=DESKTOP)
        _open(page, f"{dashboard}/")
        page.get_by_label("Part").select_option("worker")
        page.get_by_label("Trace id").fill(trace)
        page.get_by_label("Trace id").press("Enter")
        expect(page.get_by_test_id("log-summary")).to_contain_text(f"in trace {trace}")
        rows = page.locator("[data-testid=log-lines] tbody tr")
        expect(rows.filter(has_text=f"of order {paid_order}: succeeded")).to_have_count(1)
        for i in range(rows.count()):
            # A line of the trace, or one that prints its id (Celery's "received" line
            # shows the task's traceparent among its fields).
            row = rows.nth(i)
            assert row.get_attribute("data-trace") == trace or trace in row.text_content()
        zipkin = rows.first.locator("a.trace")
        assert (zipkin.get_attribute("href") or "").endswith(f"/zipkin/traces/{trace}")
        traces = httpx.get(f"{dashboard}/api/traces", timeout=20).json()
        if traces["available"]:
            # The same trace in the recent traces list, once Zipkin has it.
            listed = page.locator(f"[data-testid=traces] tr[data-trace='{trace}']")
            expect(listed).to_have_count(1, timeout=60_000)
        shot(page, "dashboard-trace")
