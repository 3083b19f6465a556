"""The manager's "Today" page (`/manage/report`, another day `/manage/report/<date>`):
the day's takings and orders, an orders-per-hour bar chart and a best-sellers chart.

The charts are inline SVG built with `html.h`, so every text is escaped and nothing is
styled inline (the page's CSP): colours come from app.css classes. Each chart is
`role="img"` with a <title> and an aria-label saying what it shows in words, and the
same figures follow as a table (a <details> anyone can open), so a screen reader or a
keyboard user gets every number.
"""

from __future__ import annotations

from coffeeshop_client import prices, router
from coffeeshop_client.html import Markup, fragment, h
from coffeeshop_client.report import FIRST_DAY, LAST_DAY, DayReport, day_words, plural
from coffeeshop_client.state import State
from coffeeshop_client.views.components import managers_only

NAME_CHARS = 18  # a best seller's name in the chart; the table has it whole


def hour_span(hour: int) -> str:
    return f"{hour:02d}:00\u2013{hour:02d}:59"


# ---- charts ------------------------------------------------------------------------

HOURS_W, HOURS_H = 720, 220
PAD_L, PAD_R, PAD_T, PAD_B = 34, 6, 18, 26


def hours_summary(report: DayReport) -> str:
    """The orders-per-hour chart in words (its aria-label)."""
    counts = report.orders_per_hour
    if not any(counts):
        return f"Orders per hour on {day_words(report.date)}: no orders."
    busiest = max(counts)
    peaks = [hour_span(hour) for hour, n in enumerate(counts) if n == busiest]
    active = [hour for hour, n in enumerate(counts) if n]
    return (
        f"Orders per hour on {day_words(report.date)}: {plural(sum(counts), 'order')} "
        f"between {active[0]:02d}:00 and {active[-1]:02d}:59; busiest "
        f"{', '.join(peaks)} with {plural(busiest, 'order')}."
    )


def hours_chart(report: DayReport) -> Markup:
    """24 bars, one per local hour, scaled to the busiest; counts above the bars."""
    counts = report.orders_per_hour
    top = max(max(counts), 1)
    plot_w = HOURS_W - PAD_L - PAD_R
    plot_h = HOURS_H - PAD_T - PAD_B
    slot = plot_w / 24
    base = PAD_T + plot_h
    parts: list[object] = [h("title", {"id": "hours-chart-title"}, hours_summary(report))]
    for value in sorted({0, top, top // 2 if top % 2 == 0 else 0}):  # whole numbers only
        y = base - plot_h * value / top
        parts.append(
            h(
                "line",
                {
                    "class_": "grid",
                    "x1": PAD_L,
                    "x2": HOURS_W - PAD_R,
                    "y1": f"{y:.1f}",
                    "y2": f"{y:.1f}",
                },
            )
        )
        parts.append(
            h(
                "text",
                {"class_": "tick", "x": PAD_L - 6, "y": f"{y + 4:.1f}", "text_anchor": "end"},
                value,
            )
        )
    for hour, n in enumerate(counts):
        x = PAD_L + hour * slot
        height = plot_h * n / top
        if n:
            parts.append(
                h(
                    "rect",
                    {
                        "class_": "bar",
                        "x": f"{x + 3:.1f}",
                        "y": f"{base - height:.1f}",
                        "width": f"{slot - 6:.1f}",
                        "height": f"{height:.1f}",
                        "data_hour": hour,
                    },
                    h("title", None, f"{hour_span(hour)}: {plural(n, 'order')}"),
                )
            )
            parts.append(
                h(
                    "text",
                    {
                        "class_": "value",
                        "x": f"{x + slot / 2:.1f}",
                        "y": f"{base - height - 4:.1f}",
                        "text_anchor": "middle",
                    },
                    n,
                )
            )
        if hour % 3 == 0:
            parts.append(
                h(
                    "text",
                    {
                        "class_": "tick",
                        "x": f"{x + slot / 2:.1f}",
                        "y": HOURS_H - 8,
                        "text_anchor": "middle",
                    },
                    f"{hour:02d}",
                )
            )
    parts.append(
        h("line", {"class_": "axis", "x1": PAD_L, "x2": HOURS_W - PAD_R, "y1": base, "y2": base})
    )
    return h(
        "svg",
        {
            "class_": "chart chart-hours",
            "viewBox": f"0 0 {HOURS_W} {HOURS_H}",
            "role": "img",
            "aria_label": hours_summary(report),
            "data_testid": "report-hours-chart",
            "xmlns": "http://www.w3.org/2000/svg",
        },
        parts,
    )


SELLERS_W, ROW_H, LABEL_W, VALUE_W = 720, 34, 200, 150


def sellers_summary(report: DayReport) -> str:
    if not report.best_sellers:
        return f"Best sellers on {day_words(report.date)}: nothing sold."
    items = "; ".join(f"{s.name}, {s.quantity} sold" for s in report.best_sellers)
    return f"Best sellers on {day_words(report.date)}, most sold first: {items}."


def _short(name: str) -> str:
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "\u2026"


def sellers_chart(report: DayReport) -> Markup:
    """A horizontal bar per best seller, scaled to the first (the most sold)."""
    sellers = report.best_sellers
    top = max((s.quantity for s in sellers), default=1)
    bar_room = SELLERS_W - LABEL_W - VALUE_W
    height = max(len(sellers), 1) * ROW_H + 8
    parts: list[object] = [h("title", {"id": "sellers-chart-title"}, sellers_summary(report))]

    def money(amount: int) -> str:
        return prices.format_money(amount, report.currency)

    for row, seller in enumerate(sellers):
        y = 4 + row * ROW_H
        width = max(bar_room * seller.quantity / top, 2)
        parts += [
            h(
                "text",
                {"class_": "label", "x": LABEL_W - 8, "y": y + 21, "text_anchor": "end"},
                _short(seller.name),
            ),
            h(
                "rect",
                {
                    "class_": "bar",
                    "x": LABEL_W,
                    "y": y + 5,
                    "width": f"{width:.1f}",
                    "height": ROW_H - 10,
                },
                h(
                    "title",
                    None,
                    f"{seller.name}: {seller.quantity} sold, {money(seller.revenue)}",
                ),
            ),
            h(
                "text",
                {"class_": "value", "x": f"{LABEL_W + width + 8:.1f}", "y": y + 21},
                f"{seller.quantity} \u00b7 {money(seller.revenue)}",
            ),
        ]
    return h(
        "svg",
        {
            "class_": "chart chart-sellers",
            "viewBox": f"0 0 {SELLERS_W} {height}",
            "role": "img",
            "aria_label": sellers_summary(report),
            "data_testid": "report-sellers-chart",
            "xmlns": "http://www.w3.org/2000/svg",
        },
        parts,
    )


def hours_table(report: DayReport) -> Markup:
    rows = [
        h("tr", None, h("th", {"scope": "row"}, hour_span(hour)), h("td", None, n))
        for hour, n in enumerate(report.orders_per_hour)
        if n
    ]
    return h(
        "details",
        {"class_": "chart-data"},
        h("summary", None, "Orders per hour as a table"),
        h(
            "table",
            {"data_testid": "report-hours-table"},
            h("caption", None, f"Orders per hour, {day_words(report.date)} (hours with orders)"),
            h(
                "thead",
                None,
                h(
                    "tr",
                    None,
                    h("th", {"scope": "col"}, "Hour"),
                    h("th", {"scope": "col"}, "Orders"),
                ),
            ),
            h("tbody", None, rows or h("tr", None, h("td", {"colspan": 2}, "No orders."))),
        ),
    )


def sellers_table(report: DayReport) -> Markup:
    money = report.currency
    rows = [
        h(
            "tr",
            None,
            h("th", {"scope": "row"}, s.name),
            h("td", None, s.quantity),
            h("td", None, prices.format_money(s.revenue, money)),
        )
        for s in report.best_sellers
    ]
    return h(
        "details",
        {"class_": "chart-data"},
        h("summary", None, "Best sellers as a table"),
        h(
            "table",
            {"data_testid": "report-sellers-table"},
            h("caption", None, f"Best sellers, {day_words(report.date)}"),
            h(
                "thead",
                None,
                h(
                    "tr",
                    None,
                    h("th", {"scope": "col"}, "Product"),
                    h("th", {"scope": "col"}, "Sold"),
                    h("th", {"scope": "col"}, "Revenue"),
                ),
            ),
            h("tbody", None, rows or h("tr", None, h("td", {"colspan": 3}, "Nothing sold."))),
        ),
    )


# ---- the page ---------------------------------------------------------------------------


def _figure(label: str, value: str, testid: str, *, big: bool = False) -> Markup:
    return h(
        "div",
        {"class_": "figure figure-big" if big else "figure"},
        h("dt", None, label),
        h("dd", {"data_testid": testid}, value),
    )


def _scroll(chart: Markup, heading_id: str) -> Markup:
    """A chart keeps a readable size on a phone and scrolls sideways there (CSS), so its
    box takes keyboard focus to be scrolled with the arrow keys."""
    return h(
        "div",
        {"class_": "chart-scroll", "tabindex": 0, "role": "group", "aria_labelledby": heading_id},
        chart,
    )


def _controls(state: State) -> Markup:
    report = state.report
    shown = state.report_day or (report.date if report else "")
    error = state.report_day_error
    return h(
        "form",
        {"class_": "report-controls", "data_action": "report-day"},
        h("label", {"for_": "report-date"}, "Day"),
        h(
            "input",
            {
                "type": "date",
                "id": "report-date",
                "name": "date",
                "value": shown,
                "min": FIRST_DAY,
                "max": LAST_DAY,
                "required": True,
                "aria_invalid": "true" if error else None,
                "aria_describedby": "report-date-error" if error else None,
                "data_testid": "report-date",
            },
        ),
        h(
            "button",
            {"type": "submit", "class_": "btn", "id": "report-show", "data_testid": "report-show"},
            "Show",
        ),
        h(
            "a",
            {
                "class_": "btn btn-quiet",
                "href": router.href("manage_report"),
                "data_testid": "report-today",
            },
            "Today",
        )
        if state.report_day
        else "",
        h(
            "button",
            {
                "type": "button",
                "class_": "btn btn-quiet",
                "id": "report-refresh",
                "data_action": "report-refresh",
                "data_testid": "report-refresh",
                "disabled": "report" in state.busy,
            },
            "Refreshing…" if "report" in state.busy else "Refresh",
        ),
        h("p", {"class_": "field-error", "id": "report-date-error", "role": "alert"}, error)
        if error
        else "",
    )


def page(state: State) -> Markup:
    title = "Today" if not state.report_day else f"Report for {day_words(state.report_day)}"
    heading = h(
        "h1", {"id": "page-heading", "tabindex": "-1", "data_testid": "report-heading"}, title
    )
    refused = managers_only(state, heading, "The day's report")
    if refused is not None:
        return refused
    report = state.report
    if report is None or state.report_of != state.report_day:
        # Never another day's figures under this day's heading.
        waiting = "Loading…" if "report" in state.busy else "No report to show."
        return fragment(
            heading, _controls(state), h("p", {"class_": "loading", "role": "status"}, waiting)
        )
    money = report.currency
    zone = f" Times in {report.time_zone}." if report.time_zone else ""
    return fragment(
        heading,
        _controls(state),
        h(
            "p",
            {"class_": "hint"},
            f"{day_words(report.date)}. Takings are paid orders less refunds made that day.{zone}",
        ),
        h(
            "dl",
            {"class_": "figures", "data_testid": "report-figures"},
            _figure(
                "Takings", prices.format_money(report.takings, money), "report-takings", big=True
            ),
            _figure("Orders", str(report.orders), "report-orders"),
            _figure("Paid", prices.format_money(report.gross, money), "report-gross"),
            _figure("Refunded", prices.format_money(report.refunds, money), "report-refunds"),
        ),
        h(
            "section",
            {"class_": "report-section", "aria_labelledby": "hours-heading"},
            h("h2", {"id": "hours-heading"}, "Orders per hour"),
            _scroll(hours_chart(report), "hours-heading"),
            hours_table(report),
        ),
        h(
            "section",
            {"class_": "report-section", "aria_labelledby": "sellers-heading"},
            h("h2", {"id": "sellers-heading"}, "Best sellers"),
            _scroll(sellers_chart(report), "sellers-heading"),
            sellers_table(report),
        ),
    )
