"""The dashboard's HTTP server (`http.server`, as the payment sandbox): one page, its
fragments, a few JSON endpoints, its script and style, and the vendored uPlot.

| path | answers |
| --- | --- |
| `/` | the page (query: `part`, `view`, `level`, `q`, `trace`, as the log filter form) |
| `/fragments/{resources,logs,traces}` | one section of the page, for its refresh |
| `/api/resources` | every part: kind, state, health, pid, memory, CPU, URL, metrics URL |
| `/api/logs` | a part's log lines (`part` empty: every part), filtered as the page's form |
| `/api/traces` | recent traces from the traces part, each with its Zipkin link |
| `/api/metrics` | the charts' series |
| `/healthz` | 200 while it serves |

Bound to 127.0.0.1 and without a login, like the rest of the local stack; a request
naming another host (DNS rebinding) is refused, and nothing here writes.
"""

from __future__ import annotations

import json
import mimetypes
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from devstack.base import HOST
from devstack.dashboard import build, page
from devstack.dashboard.logs import LogFilter, LogLine, LogTail, merge, select
from devstack.dashboard.metrics import Sampler
from devstack.dashboard.resources import ResourceMonitor
from devstack.dashboard.traces import RecentTraces, recent_traces, zipkin_url
from devstack.stack import Stack

STATIC = Path(__file__).resolve().parent / "static"
PAGE_LINES = 200
MAX_LINES = 2000
SECURITY_HEADERS = {
    # No inline script or style anywhere; uPlot styles its elements through the DOM.
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


def _json(data: Any, status: int = 200) -> Answer:
    return Answer(status, "application/json", json.dumps(data).encode())


def _html(text: str, status: int = 200) -> Answer:
    return Answer(status, "text/html; charset=utf-8", text.encode())


def _problem(status: int, title: str, detail: str) -> Answer:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return Answer(status, "application/problem+json", json.dumps(body).encode())


class Dashboard:
    """What the page shows, read from the stack's state folder; no HTTP in here."""

    def __init__(self, stack: Stack, *, traces_cache_s: float = 5.0) -> None:
        self.stack = stack
        self.monitor = ResourceMonitor(stack)
        self.sampler = Sampler(self._metric_targets)
        self.zipkin = zipkin_url(stack.ports)
        self._tails: dict[str, LogTail] = {}
        self._tails_lock = threading.Lock()
        self._traces_cache_s = traces_cache_s
        self._traces: tuple[float, RecentTraces] | None = None

    # ---- parts and their logs -----------------------------------------------------------
    def _metric_targets(self) -> list[tuple[str, str]]:
        return [(r.name, r.metrics) for r in self.monitor.snapshot(max_age=30)]

    def part_names(self) -> list[str]:
        """Every part, in the status table's order, then any other that left a log."""
        names = [r.name for r in self.monitor.snapshot(max_age=30)]
        logs = self.stack.state / "logs"
        others = sorted(p.stem for p in logs.glob("*.log") if p.stem not in names)
        return [*names, *others]

    def _tail(self, part: str) -> LogTail | None:
        with self._tails_lock:
            if part not in self._tails:
                process = self.stack.process(part)
                if process is None:
                    return None
                self._tails[part] = LogTail(part, process.logfile)
            return self._tails[part]

    def log_view(self, query: Mapping[str, str], limit: int = PAGE_LINES) -> page.LogView:
        """The lines the query asks for. A bad filter or an unknown part is a LogView
        with its `problem` set, never an exception."""
        parts = self.part_names()
        part = query.get("part", "").strip()
        try:
            wanted = LogFilter.from_query(query)
        except ValueError as err:
            return page.LogView(part, parts, LogFilter(), [], limit, self.zipkin, str(err))
        if part and part not in parts:
            return page.LogView(
                part, parts, wanted, [], limit, self.zipkin, f"part: no part named {part!r}"
            )
        lines: list[LogLine] = []
        if part:
            tail = self._tail(part)
            lines = select(tail.lines(), wanted, limit) if tail else []
        else:
            tails = [t for t in (self._tail(p) for p in parts) if t is not None]
            lines = select(merge(select(t.lines(), wanted, limit) for t in tails), wanted, limit)
        return page.LogView(part, parts, wanted, lines, limit, self.zipkin)

    def recent_traces(self) -> RecentTraces:
        cached = self._traces
        if cached is not None and time.monotonic() - cached[0] < self._traces_cache_s:
            return cached[1]
        recent = recent_traces(self.zipkin)
        self._traces = (time.monotonic(), recent)
        return recent

    # ---- the answers --------------------------------------------------------------------
    def resources_html(self) -> str:
        return page.resources_section(self.monitor.snapshot(), datetime.now().astimezone())

    def page_html(self, query: Mapping[str, str]) -> str:
        self.sampler.wanted()
        view = self.log_view(query)
        vendor = build.vendored()
        if vendor is None:
            charts = (
                "Charts unavailable: the charting library (uPlot from npm) is not built; "
                "run `python3 -m devstack.dashboard.build` (needs npm)."
            )
            css = js = ""
        else:
            charts = "Collecting the first points…"
            css = f"/vendor/uplot/{vendor.name}/uPlot.min.css"
            js = f"/vendor/uplot/{vendor.name}/uPlot.iife.min.js"
        return page.page(
            resources=self.resources_html(),
            logs=page.logs_section(view),
            form=page.logs_form(view),
            traces=page.traces_section(self.recent_traces()),
            charts_available=charts,
            uplot_css=css,
            uplot_js=js,
        )


def _limit(query: Mapping[str, str]) -> int:
    try:
        return max(1, min(int(query.get("limit", PAGE_LINES)), MAX_LINES))
    except ValueError:
        return PAGE_LINES


def _api_logs(app: Dashboard, query: Mapping[str, str]) -> Answer:
    view = app.log_view(query, _limit(query))
    if view.problem:
        return _problem(400, "Bad log filter", view.problem)
    return _json(
        {
            "part": view.part,
            "view": view.view,
            "level": view.wanted.min_level,
            "q": view.wanted.text,
            "trace": view.wanted.trace_id,
            "lines": [line.as_json() for line in view.lines],
        }
    )


def _api_metrics(app: Dashboard, query: Mapping[str, str]) -> Answer:
    app.sampler.wanted()
    return _json(app.sampler.as_json())


def _api_resources(app: Dashboard, query: Mapping[str, str]) -> Answer:
    resources = app.monitor.snapshot()
    return _json(
        {
            "healthy": all(r.healthy for r in resources),
            "parts": [r.as_json() for r in resources],
        }
    )


ROUTES: dict[str, Callable[[Dashboard, Mapping[str, str]], Answer]] = {
    "/": lambda app, query: _html(app.page_html(query)),
    "/healthz": lambda app, query: _json({"status": "ok", "part": "dashboard"}),
    "/fragments/resources": lambda app, query: _html(app.resources_html()),
    "/fragments/logs": lambda app, query: _html(page.logs_section(app.log_view(query))),
    "/fragments/traces": lambda app, query: _html(page.traces_section(app.recent_traces())),
    "/api/resources": _api_resources,
    "/api/logs": _api_logs,
    "/api/traces": lambda app, query: _json(app.recent_traces().as_json()),
    "/api/metrics": _api_metrics,
}


def static_file(path: str) -> Answer | None:
    """`/static/<name>` from this package's static/, `/vendor/uplot/<version>/<name>`
    from the build; None for anything else (no path leaves those folders)."""
    if path.startswith("/static/"):
        name = path[len("/static/") :]
        if name not in {p.name for p in STATIC.iterdir()}:
            return None
        file, cache = STATIC / name, "no-cache"
    elif path.startswith("/vendor/uplot/"):
        vendor = build.vendored()
        version, _, name = path[len("/vendor/uplot/") :].partition("/")
        if vendor is None or version != vendor.name or name not in build.UPLOT_FILES:
            return None
        # The version is in the path: a new one is a new URL.
        file, cache = vendor / name, "public, max-age=31536000, immutable"
    else:
        return None
    kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind.endswith("javascript"):
        kind += "; charset=utf-8"
    return Answer(200, kind, file.read_bytes(), {"Cache-Control": cache})


class Handler(BaseHTTPRequestHandler):
    server: DashboardServer
    protocol_version = "HTTP/1.1"
    server_version = "CoffeeShopDashboard/1"

    def log_message(self, format: str, *args: Any) -> None:
        return None  # the page polls: one line per request would bury the log

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        answer = self._answer(url.path, dict(parse_qsl(url.query)))
        self._send(answer, body=True)

    def do_HEAD(self) -> None:
        url = urlsplit(self.path)
        self._send(self._answer(url.path, dict(parse_qsl(url.query))), body=False)

    def _answer(self, path: str, query: dict[str, str]) -> Answer:
        if self.headers.get("Host", "") not in self.server.allowed_hosts:
            return _problem(403, "Forbidden", "this dashboard answers 127.0.0.1 and localhost")
        route = ROUTES.get(path)
        try:
            if route is not None:
                return route(self.server.app, query)
            found = static_file(path)
        except Exception as err:  # one broken section must not take the server down
            sys.stderr.write(json.dumps({"level": "ERROR", "message": f"{path}: {err!r}"}) + "\n")
            return _problem(500, "Internal error", f"{type(err).__name__}: {err}")
        return found or _problem(404, "Not found", f"nothing at {path}")

    def _send(self, answer: Answer, *, body: bool) -> None:
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        headers = {"Cache-Control": "no-store", **SECURITY_HEADERS, **answer.headers}
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if body:
            self.wfile.write(answer.body)


class DashboardServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, app: Dashboard, port: int) -> None:
        super().__init__((HOST, port), Handler)
        self.app = app
        bound = self.server_address[1]
        self.allowed_hosts = {f"{HOST}:{bound}", f"localhost:{bound}"}


def serve(stack: Stack, port: int) -> None:
    """Serve until SIGTERM or SIGINT."""
    app = Dashboard(stack)
    server = DashboardServer(app, port)
    app.sampler.start()

    def stop(*_: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(
        json.dumps(
            {
                "level": "INFO",
                "logger": "devstack.dashboard",
                "message": f"dashboard listening on http://{HOST}:{server.server_address[1]}/",
            }
        ),
        flush=True,
    )
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        app.sampler.stop()
        server.server_close()
