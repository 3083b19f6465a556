"""Recent traces from the traces part (Zipkin's API v2), one summary line each.

The part `traces` runs a Zipkin server (default http://127.0.0.1:29411,
`COFFEESHOP_TRACES_PORT`); its UI shows a trace at `/zipkin/traces/<trace id>`.
When nothing answers there the dashboard says so and goes on.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from devstack.base import HOST

DEFAULT_TRACES_PORT = 29411
# How far back "recent" reaches, and how many traces the page lists.
LOOKBACK_MS = 60 * 60 * 1000
LIMIT = 25


def zipkin_url(ports: Mapping[str, int], environ: Mapping[str, str] | None = None) -> str:
    """Where the traces part listens: its port in the stack's ports, else its setting,
    else the default."""
    environ = os.environ if environ is None else environ
    port = ports.get("traces") or int(
        environ.get("COFFEESHOP_TRACES_PORT", "") or DEFAULT_TRACES_PORT
    )
    return f"http://{HOST}:{port}"


@dataclass(frozen=True)
class TraceSummary:
    trace_id: str
    root_service: str
    root_name: str
    # Microseconds since the epoch, and the whole trace's length in microseconds.
    start_us: int
    duration_us: int
    span_count: int
    services: tuple[str, ...]
    error: bool
    link: str

    def as_json(self) -> dict[str, Any]:
        return {
            "trace_id": self.trace_id,
            "root": f"{self.root_service}: {self.root_name}".strip(": "),
            "root_service": self.root_service,
            "root_name": self.root_name,
            "start": datetime.fromtimestamp(self.start_us / 1e6, tz=UTC).isoformat(),
            "duration_ms": round(self.duration_us / 1000, 1),
            "span_count": self.span_count,
            "services": list(self.services),
            "error": self.error,
            "link": self.link,
        }


def trace_link(ui_base: str, trace_id: str) -> str:
    return f"{ui_base.rstrip('/')}/zipkin/traces/{trace_id}"


def summarise(spans: Sequence[Mapping[str, Any]], ui_base: str) -> TraceSummary | None:
    """One trace (Zipkin v2 spans) as a line: its root span (the one without a parent, else
    the earliest), when it began, how long it took end to end, its services, and whether
    any span recorded an error. None for an empty trace."""
    timed = [span for span in spans if isinstance(span, Mapping)]
    if not timed:
        return None
    trace_id = str(timed[0].get("traceId", ""))
    starts = [int(s.get("timestamp") or 0) for s in timed if s.get("timestamp")]
    ends = [int(s.get("timestamp") or 0) + int(s.get("duration") or 0) for s in timed]
    roots = [s for s in timed if not s.get("parentId")]
    root = min(roots or timed, key=lambda s: int(s.get("timestamp") or 2**62))
    start = min(starts) if starts else 0
    services = sorted(
        {
            str(endpoint["serviceName"])
            for s in timed
            if isinstance(endpoint := s.get("localEndpoint"), Mapping)
            and endpoint.get("serviceName")
        }
    )
    root_endpoint = root.get("localEndpoint")
    return TraceSummary(
        trace_id=trace_id,
        root_service=str(root_endpoint.get("serviceName", ""))
        if isinstance(root_endpoint, Mapping)
        else "",
        root_name=str(root.get("name", "")),
        start_us=start,
        duration_us=max(ends, default=start) - start if starts else int(root.get("duration") or 0),
        span_count=len(timed),
        services=tuple(services),
        error=any("error" in (s.get("tags") or {}) for s in timed),
        link=trace_link(ui_base, trace_id),
    )


@dataclass
class RecentTraces:
    """What the page shows: the traces, or why there are none."""

    backend: str
    ui: str
    available: bool
    traces: list[TraceSummary] = field(default_factory=list)
    problem: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "ui": self.ui,
            "available": self.available,
            "problem": self.problem,
            "traces": [trace.as_json() for trace in self.traces],
        }


def recent_traces(
    base_url: str, *, limit: int = LIMIT, service: str = "", timeout: float = 3.0
) -> RecentTraces:
    """The newest `limit` traces of the last hour, newest first (GET /api/v2/traces)."""
    ui = f"{base_url.rstrip('/')}/zipkin/"
    params: dict[str, str | int] = {"limit": limit, "lookback": LOOKBACK_MS}
    if service:
        params["serviceName"] = service
    try:
        response = httpx.get(f"{base_url}/api/v2/traces", params=params, timeout=timeout)
    except httpx.ConnectError:
        return RecentTraces(base_url, ui, False, problem=f"no traces backend running at {base_url}")
    except httpx.HTTPError as err:
        return RecentTraces(base_url, ui, False, problem=f"traces backend at {base_url}: {err}")
    if response.status_code != 200:
        return RecentTraces(
            base_url,
            ui,
            False,
            problem=f"traces backend at {base_url} answered {response.status_code}",
        )
    try:
        raw = response.json()
    except ValueError:
        return RecentTraces(base_url, ui, False, problem=f"{base_url} did not answer JSON")
    summaries = [
        summary
        for trace in (raw if isinstance(raw, list) else [])
        if isinstance(trace, list) and (summary := summarise(trace, base_url))
    ]
    summaries.sort(key=lambda s: s.start_us, reverse=True)
    return RecentTraces(base_url, ui, True, summaries[:limit])
