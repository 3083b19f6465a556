"""The dashboard as a real process (`python -m devstack.dashboard`) over a state folder
whose parts are stopped and whose logs are given, read through its API and in Chromium.

The running system's dashboard is driven in tests/e2e/test_dashboard_browser.py; here the
logs are known in advance, so every filter's answer is exact.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from devstack.base import REPO_ROOT, free_port, stop_pid, wait_until
from devstack.dashboard import build
from devstack.stack import DEFAULT_PORTS, Stack, StackConfig
from tests.e2e.chromium import DESKTOP, chromium_launch

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
OTHER = "0af7651916cd43dd8448eb211c80319c"


def _record(time: str, message: str, trace: str = "", level: str = "INFO") -> str:
    fields = {"time": time, "level": level, "logger": "test", "message": message}
    if trace:
        fields |= {"trace_id": trace, "span_id": "00f067aa0ba902b7"}
    return json.dumps(fields)


LOGS = {
    "order": [
        _record("2026-12-05T12:00:01+0000", "order 3 placed", TRACE),
        _record("2026-12-05T12:00:02+0000", "menu read", OTHER),
        _record("2026-12-05T12:00:05+0000", "<script>alert(1)</script> in a message"),
        '{"access": "POST /orders", "status": 201, "ms": 12}',
    ],
    "worker": [
        "[2026-12-05 12:00:00,000: INFO/MainProcess] celery@vm ready.",
        _record("2026-12-05T12:00:03+0000", "payment 7 of order 3: succeeded", TRACE),
        _record("2026-12-05T12:00:04+0000", "payment 8: attempt 1 failed", OTHER, "WARNING"),
    ],
    "kafka": ["[2026-12-05T12:00:00,000] WARN  [Broker] something slow"],
}


class DashboardProcess:
    def __init__(self, state: Path) -> None:
        self.state = state
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        ports = {part: free_port() for part in DEFAULT_PORTS} | {"dashboard": self.port}
        StackConfig(state_dir=state, ports=ports).save()
        logs = state / "logs"
        logs.mkdir(parents=True)
        for part, lines in LOGS.items():
            (logs / f"{part}.log").write_text("\n".join(lines) + "\n")
        self.output = state / "dashboard-test.log"
        with self.output.open("wb") as out:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "devstack.dashboard",
                    "--port",
                    str(self.port),
                    "--state-dir",
                    str(state),
                ],
                cwd=REPO_ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until("dashboard", self.healthy, timeout=60)

    def healthy(self) -> bool:
        assert self.proc.poll() is None, self.output.read_text()
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def get(self, path: str, **params: str) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", params=params, timeout=20)

    def stop(self) -> None:
        stop_pid(self.proc.pid, timeout=10)


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DashboardProcess]:
    build.build()  # the charting library, from npm (a no-op once built)
    process = DashboardProcess(tmp_path_factory.mktemp("dashboard") / "state")
    try:
        yield process
    finally:
        process.stop()


def _messages(answer: httpx.Response) -> list[tuple[str, str]]:
    assert answer.status_code == 200, answer.text
    return [(line["part"], line["message"]) for line in answer.json()["lines"]]


def test_every_part_of_the_stack_is_listed_stopped(dashboard: DashboardProcess) -> None:
    config = StackConfig.load(dashboard.state)
    assert config is not None
    expected = [row.name for row in Stack(config).status()]

    parts = dashboard.get("/api/resources").json()["parts"]

    assert [part["name"] for part in parts] == expected
    assert "dashboard" in expected
    # Its own row too: this dashboard was not started by `up`, so no pid file names it.
    assert {(p["state"], p["health"], p["pid"]) for p in parts} == {("stopped", "-", None)}


def test_a_parts_logs_filtered_by_trace_id_hold_that_trace_only(
    dashboard: DashboardProcess,
) -> None:
    assert _messages(dashboard.get("/api/logs", part="order", trace=TRACE.upper())) == [
        ("order", "order 3 placed")
    ]
    assert _messages(dashboard.get("/api/logs", trace=TRACE)) == [
        ("order", "order 3 placed"),
        ("worker", "payment 7 of order 3: succeeded"),
    ]


def test_levels_text_and_console_lines_filter_as_asked(dashboard: DashboardProcess) -> None:
    assert _messages(dashboard.get("/api/logs", level="WARNING", view="console")) == [
        ("kafka", "[2026-12-05T12:00:00,000] WARN  [Broker] something slow"),
        ("worker", "payment 8: attempt 1 failed"),
    ]
    assert _messages(dashboard.get("/api/logs", part="worker", q="CELERY", view="console")) == [
        ("worker", "[2026-12-05 12:00:00,000: INFO/MainProcess] celery@vm ready.")
    ]
    assert _messages(dashboard.get("/api/logs", part="worker", q="celery")) == []


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"level": "loud"}, "level: one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ({"trace": "12345"}, "trace: a trace id is 16 or 32 hexadecimal digits"),
        ({"part": "nothing"}, "part: no part named 'nothing'"),
    ],
)
def test_a_bad_filter_is_a_400_problem_naming_it(
    dashboard: DashboardProcess, params: dict[str, str], detail: str
) -> None:
    answer = dashboard.get("/api/logs", **params)

    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["detail"] == detail


def test_the_page_escapes_what_the_logs_say_and_allows_no_inline_code(
    dashboard: DashboardProcess,
) -> None:
    answer = dashboard.get("/", part="order", q="alert")

    assert answer.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt; in a message" in answer.text
    assert "<script>alert" not in answer.text
    csp = answer.headers["content-security-policy"]
    assert "script-src 'self';" in csp
    assert "unsafe-inline" not in csp


def test_another_host_name_is_refused(dashboard: DashboardProcess) -> None:
    answer = httpx.get(f"{dashboard.url}/api/resources", headers={"Host": "attacker.example"})

    assert answer.status_code == 403


def test_no_traces_backend_and_no_metrics_are_said_plainly(dashboard: DashboardProcess) -> None:
    traces = dashboard.get("/api/traces").json()
    metrics = dashboard.get("/api/metrics").json()

    assert traces["available"] is False
    assert traces["problem"].startswith("no traces backend running at http://127.0.0.1:")
    assert [chart["id"] for chart in metrics["charts"]] == ["requests", "latency", "orders", "lag"]
    assert all(chart["series"] == [] for chart in metrics["charts"])


def test_in_chromium_a_trace_id_typed_or_clicked_filters_the_logs(
    dashboard: DashboardProcess,
) -> None:
    problems: list[Any] = []
    with chromium_launch() as browser:
        page = browser.new_page(viewport=DESKTOP)
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda err: problems.append(err))
        page.goto(f"{dashboard.url}/")
        assert page.locator("[data-testid=resources] tbody tr").count() == len(
            dashboard.get("/api/resources").json()["parts"]
        )

        page.get_by_label("Part").select_option("worker")
        page.get_by_label("Trace id").fill(OTHER)
        page.get_by_label("Trace id").press("Enter")
        rows = page.locator("[data-testid=log-lines] tbody tr")
        expect(rows).to_have_count(1)
        assert rows.first.get_attribute("data-trace") == OTHER
        assert "payment 8: attempt 1 failed" in rows.first.inner_text()
        assert f"trace={OTHER}" in page.url

        # Every part, then the "filter" link of a line: that line's trace, in place.
        page.get_by_label("Part").select_option("")
        page.get_by_label("Trace id").fill("")
        page.get_by_role("button", name="Show").click()
        expect(rows).to_have_count(len(dashboard.get("/api/logs").json()["lines"]))
        page.locator(f"tr[data-trace='{TRACE}'] a.filter-trace").first.click()
        expect(rows).to_have_count(2)
        assert page.get_by_label("Trace id").input_value() == TRACE
        assert {rows.nth(i).get_attribute("data-trace") for i in range(2)} == {TRACE}
        zipkin_link = page.locator(f"tr[data-trace='{TRACE}'] a.trace").first
        assert zipkin_link.get_attribute("href", timeout=5000).endswith(f"/zipkin/traces/{TRACE}")

        # The charting library loaded and drew its four panels.
        expect(page.locator("figure.chart")).to_have_count(4)
        assert page.evaluate("typeof window.uPlot") == "function"
    assert problems == []
