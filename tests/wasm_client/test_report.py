"""The manager's "Today" page: the day's figures, the two SVG charts (accessible, with
their figures as tables), the date picker, Refresh, and who may see it."""

from __future__ import annotations

import asyncio
import re

import pytest
from coffeeshop_client import report
from coffeeshop_client.api import ApiClient
from coffeeshop_client.app import App

from tests.wasm_client.fakes import FakeBff, FakePlatform

HOURS = [0] * 24
HOURS[8], HOURS[9], HOURS[13] = 4, 2, 1
REPORT = {
    "date": "2026-12-04",
    "time_zone": "Europe/London",
    "currency": "GBP",
    "orders": 7,
    "gross": 3150,
    "refunds": 550,
    "takings": 2600,
    "orders_per_hour": HOURS,
    "best_sellers": [
        {"product_id": 1, "name": "Latte", "quantity": 5, "revenue": 2750},
        {"product_id": 2, "name": "Espresso <b>", "quantity": 2, "revenue": 500},
    ],
}
ONE = [0] * 24
ONE[23] = 1
EMPTY = {
    **REPORT,
    "date": "2026-12-03",
    "orders": 0,
    "gross": 0,
    "refunds": 0,
    "takings": 0,
    "orders_per_hour": [0] * 24,
    "best_sellers": [],
}


def make(fragment: str, roles: tuple[str, ...] = ("manager", "barista")):
    bff = FakeBff(roles=roles)
    bff.on("GET", "/api/manage/report", (200, REPORT))
    bff.on("GET", "/api/manage/report?date=2026-12-03", (200, EMPTY))
    platform = FakePlatform(fragment)
    return App(ApiClient(bff), platform), bff, platform


def svg(html: str, testid: str) -> str:
    match = re.search(rf'<svg [^>]*data-testid="{testid}".*?</svg>', html, re.S)
    assert match is not None, f"no {testid}"
    return match.group(0)


def test_a_manager_sees_today_s_takings_orders_and_both_charts():
    app, bff, platform = make("#/manage/report")

    asyncio.run(app.start())

    html = platform.view_html
    assert len(bff.sent("GET", "/api/manage/report")) == 1
    assert 'data-testid="nav-report"' in platform.nav_html
    assert '<h1 id="page-heading" tabindex="-1" data-testid="report-heading">Today</h1>' in html
    assert '<dd data-testid="report-takings">£26.00</dd>' in html
    assert '<dd data-testid="report-orders">7</dd>' in html
    assert '<dd data-testid="report-gross">£31.50</dd>' in html
    assert '<dd data-testid="report-refunds">£5.50</dd>' in html
    assert "Times in Europe/London." in html
    assert platform.announced[-1] == "Report for Friday 4 December 2026: takings £26.00, 7 orders."


def test_the_hours_chart_has_a_bar_per_busy_hour_scaled_to_the_busiest():
    app, _bff, platform = make("#/manage/report")

    asyncio.run(app.start())

    chart = svg(platform.view_html, "report-hours-chart")
    bars = re.findall(
        r'<rect class="bar" x="[^"]+" y="([^"]+)" width="[^"]+" height="([^"]+)" data-hour="(\d+)"',
        chart,
    )
    assert [(hour, float(height)) for _y, height, hour in bars] == [
        ("8", 176.0),  # the busiest hour fills the plot
        ("9", 88.0),
        ("13", 44.0),
    ]
    summary = (
        "Orders per hour on Friday 4 December 2026: 7 orders between 08:00 and 13:59; "
        "busiest 08:00\u201308:59 with 4 orders."
    )
    assert f'role="img" aria-label="{summary}"' in chart
    assert f'<title id="hours-chart-title">{summary}</title>' in chart
    assert "<title>09:00\u201309:59: 2 orders</title>" in chart
    assert "style" not in chart


def test_the_best_sellers_chart_escapes_names_and_shows_quantity_and_revenue():
    app, _bff, platform = make("#/manage/report")

    asyncio.run(app.start())

    chart = svg(platform.view_html, "report-sellers-chart")
    assert "Espresso &lt;b&gt;" in chart
    assert "<b>" not in platform.view_html
    widths = re.findall(r'<rect class="bar" x="200" y="[^"]+" width="([^"]+)"', chart)
    assert [float(w) for w in widths] == [370.0, 148.0]  # 5 and 2 sold
    assert "5 \u00b7 £27.50" in chart
    assert (
        'aria-label="Best sellers on Friday 4 December 2026, most sold first: Latte, 5 sold; '
        'Espresso &lt;b&gt;, 2 sold."'
    ) in chart


def test_every_figure_of_the_charts_is_in_a_table_too():
    app, _bff, platform = make("#/manage/report")

    asyncio.run(app.start())

    html = platform.view_html
    hours = re.search(r'<table data-testid="report-hours-table">.*?</table>', html, re.S)
    sellers = re.search(r'<table data-testid="report-sellers-table">.*?</table>', html, re.S)
    assert hours is not None
    assert sellers is not None
    assert re.findall(r'<th scope="row">([^<]+)</th><td>(\d+)</td>', hours.group(0)) == [
        ("08:00\u201308:59", "4"),
        ("09:00\u201309:59", "2"),
        ("13:00\u201313:59", "1"),
    ]
    assert re.findall(
        r"<th scope=\"row\">(.+?)</th><td>(\d+)</td><td>(.+?)</td>", sellers.group(0)
    ) == [
        ("Latte", "5", "£27.50"),
        ("Espresso &lt;b&gt;", "2", "£5.00"),
    ]


def test_picking_another_day_opens_its_page_and_loads_its_report():
    app, bff, platform = make("#/manage/report")

    async def scenario():
        await app.start()
        await app.dispatch("report-day", {"date": "2026-12-03"})
        await app.on_route(platform.path)

    asyncio.run(scenario())

    assert platform.navigations == ["/manage/report/2026-12-03"]
    assert len(bff.sent("GET", "/api/manage/report?date=2026-12-03")) == 1
    html = platform.view_html
    assert "Report for Thursday 3 December 2026</h1>" in html
    assert 'value="2026-12-03"' in html
    assert '<dd data-testid="report-takings">£0.00</dd>' in html
    assert "Orders per hour on Thursday 3 December 2026: no orders." in html
    assert '<td colspan="2">No orders.</td>' in html
    assert '<td colspan="3">Nothing sold.</td>' in html
    assert 'class="bar"' not in html
    assert 'data-testid="report-today"' in html  # back to today


@pytest.mark.parametrize("value", ["", "3/12/2026", "2026-02-30", "1999-12-31"])
def test_a_bad_day_in_the_picker_is_named_and_nothing_is_fetched(value: str):
    app, bff, platform = make("#/manage/report")

    async def scenario():
        await app.start()
        await app.dispatch("report-day", {"date": value})

    asyncio.run(scenario())

    assert platform.navigations == []
    assert len([r for r in bff.requests if r.url.startswith("/api/manage/report")]) == 1
    assert 'aria-invalid="true"' in platform.view_html
    assert "Pick a day between 2000-01-01 and 2999-12-31." in platform.view_html


def test_refresh_fetches_the_same_day_again_and_shows_the_new_figures():
    app, bff, platform = make("#/manage/report/2026-12-03")

    async def scenario():
        await app.start()
        bff.on(
            "GET",
            "/api/manage/report?date=2026-12-03",
            (200, {**EMPTY, "orders": 1, "takings": 250, "gross": 250, "orders_per_hour": ONE}),
        )
        await app.dispatch("report-refresh", {})

    asyncio.run(scenario())

    assert len(bff.sent("GET", "/api/manage/report?date=2026-12-03")) == 2
    assert '<dd data-testid="report-takings">£2.50</dd>' in platform.view_html
    assert 'data-hour="23"' in platform.view_html
    assert (
        'id="report-refresh" data-action="report-refresh" data-testid="report-refresh">Refresh'
        in platform.view_html
    )


def test_a_failed_load_shows_the_banner_and_try_again_loads_it():
    app, bff, platform = make("#/manage/report")
    bff.on(
        "GET",
        "/api/manage/report",
        (503, {"title": "Unavailable", "status": 503, "service": "order"}),
    )

    async def scenario():
        await app.start()
        assert "The ordering service is unavailable" in platform.view_html
        bff.on("GET", "/api/manage/report", (200, REPORT))
        await app.dispatch("retry", {})

    asyncio.run(scenario())

    assert 'data-testid="error-banner"' not in platform.view_html
    assert '<dd data-testid="report-takings">£26.00</dd>' in platform.view_html


@pytest.mark.parametrize("roles", [("barista",), ("customer",)])
def test_the_report_is_for_managers_only(roles):
    app, bff, platform = make("#/manage/report", roles)

    asyncio.run(app.start())

    assert "The day&#x27;s report is for managers." in platform.view_html
    assert bff.sent("GET", "/api/manage/report") == []
    assert 'data-testid="nav-report"' not in platform.nav_html


def test_day_check_takes_only_real_days_the_bff_accepts():
    assert report.day_check(" 2026-12-04 ") == "2026-12-04"
    assert [report.day_check(v) for v in ("2026-13-01", "26-12-04", "3000-01-01", "x")] == [
        None
    ] * 4


def test_back_to_today_never_shows_the_other_day_s_figures_under_today():
    app, bff, platform = make("#/manage/report/2026-12-03")
    bff.on("GET", "/api/manage/report", (503, {"title": "Unavailable", "status": 503}))

    async def scenario():
        await app.start()
        assert '<dd data-testid="report-orders">0</dd>' in platform.view_html
        platform.path = "#/manage/report"
        await app.on_route(platform.path)

    asyncio.run(scenario())

    html = platform.view_html
    assert 'data-testid="report-heading">Today</h1>' in html
    assert 'data-testid="report-figures"' not in html
    assert "No report to show." in html
    assert 'data-testid="error-banner"' in html
