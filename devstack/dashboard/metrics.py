"""Live charts from the parts' Prometheus metrics.

Each part that has metrics names their URL in its status row (`PartStatus.metrics`);
`Sampler` scrapes them every few seconds while a page is open, reads the text format
(https://prometheus.io/docs/instrumenting/exposition_formats/) and keeps the last
minutes of a few series per chart: requests per second and the 95th percentile latency
per part, orders per minute by what happened to them, and the outbox and consumer lags.
Which metric feeds which chart is decided by its family name (`CHARTS` below), so a
part with other metrics simply adds nothing.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

# ---- the text format -------------------------------------------------------------------

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_ESCAPES = {"\\": "\\", '"': '"', "n": "\n"}


@dataclass(frozen=True)
class Sample:
    name: str
    labels: tuple[tuple[str, str], ...]
    value: float

    def label(self, key: str) -> str:
        return dict(self.labels).get(key, "")


def parse_text(text: str) -> list[Sample]:
    """Every sample of a Prometheus text exposition, in order. Comments (`# HELP`,
    `# TYPE`) and lines that are not samples are skipped, never fatal: one odd line of
    one part must not blank the charts."""
    samples = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            samples.append(_sample(line))
        except ValueError:
            continue
    return samples


def _sample(line: str) -> Sample:
    match = _NAME.match(line)
    if not match:
        raise ValueError(line)
    name, rest = match.group(), line[match.end() :]
    labels: list[tuple[str, str]] = []
    if rest.startswith("{"):
        labels, rest = _labels(rest)
    parts = rest.split()
    if not parts:
        raise ValueError(line)
    return Sample(name, tuple(labels), float(parts[0]))


def _labels(text: str) -> tuple[list[tuple[str, str]], str]:
    """`{a="x",b="y\\"z"} rest` → ([(a, x), (b, y"z)], " rest")."""
    labels: list[tuple[str, str]] = []
    i = 1
    while True:
        while i < len(text) and text[i] in " ,":
            i += 1
        if i >= len(text):
            raise ValueError("unterminated labels")
        if text[i] == "}":
            return labels, text[i + 1 :]
        match = _NAME.match(text, i)
        if not match or text[match.end() : match.end() + 2] != '="':
            raise ValueError("bad label")
        key, i = match.group(), match.end() + 2
        value = []
        while i < len(text) and text[i] != '"':
            if text[i] == "\\" and i + 1 < len(text):
                value.append(_ESCAPES.get(text[i + 1], "\\" + text[i + 1]))
                i += 2
            else:
                value.append(text[i])
                i += 1
        if i >= len(text):
            raise ValueError("unterminated label value")
        labels.append((key, "".join(value)))
        i += 1


# ---- what a chart reads ----------------------------------------------------------------


def _first_family(samples: Sequence[Sample], patterns: Sequence[re.Pattern[str]]) -> str:
    """The name of the first family (in `patterns` order) the samples hold, or ""."""
    names = {s.name for s in samples}
    for pattern in patterns:
        found = sorted(n for n in names if pattern.fullmatch(n))
        if found:
            return found[0]
    return ""


# Counters of HTTP requests served (prometheus_client adds `_total`).
REQUEST_COUNTERS = (
    re.compile(r"(\w+_)?http_requests_total"),
    re.compile(r"(\w+_)?http_server_requests_total"),
    re.compile(r"django_http_requests_total_by_method_total"),
)
# Histograms of the time a request took, in seconds (the `_bucket` series).
LATENCY_HISTOGRAMS = (
    re.compile(r"(\w+_)?http_request_duration_seconds_bucket"),
    re.compile(r"(\w+_)?http_server_request_duration_seconds_bucket"),
    re.compile(r"(\w+_)?request_(duration|latency)_seconds_bucket"),
    re.compile(r"django_http_requests_latency_seconds_by_view_method_bucket"),
)
ORDER_EVENTS = ("placed", "paid", "payment_failed", "failed", "refunded", "cancelled")
# `orders_placed_total`, `coffeeshop_orders_paid_total` …, or one family with the event
# in a label: `orders_total{event="paid"}`.
_ORDER_COUNTER = re.compile(r"(?:\w+_)?orders?_(" + "|".join(ORDER_EVENTS) + r")_total")
_ORDERS_BY_LABEL = re.compile(r"(?:\w+_)?orders?_total")
_ORDER_LABELS = ("event", "status", "outcome", "state", "type", "result")
# How far behind the outbox relays and the Kafka consumers are, in messages: rows not yet
# published (`coffeeshop_outbox_unpublished_events`), messages a consumer group has not
# committed (`coffeeshop_kafka_consumer_lag{group,topic,partition}`).
_OUTBOX_LAG = re.compile(r"(?:\w+_)?outbox_(?:unpublished_events|lag\w*)")
_CONSUMER_LAG = re.compile(r"(?:\w+_)?consumer_lag\w*")
_NOT_GAUGE = ("_created", "_total", "_bucket", "_count", "_sum")
# Health probes (`status`, this dashboard, `up`) are no traffic: their routes are left out
# of the request and latency charts.
_PROBE_ROUTE = re.compile(r"/?(healthz|readyz)/?")


def _traffic(sample: Sample) -> bool:
    return not _PROBE_ROUTE.fullmatch(sample.label("route") or sample.label("path"))


def request_total(samples: Sequence[Sample]) -> float | None:
    family = _first_family(samples, REQUEST_COUNTERS)
    if not family:
        return None
    return sum(s.value for s in samples if s.name == family and _traffic(s))


def latency_buckets(samples: Sequence[Sample]) -> dict[float, float]:
    """Cumulative counts by upper bound (`le`), summed over every route and method."""
    family = _first_family(samples, LATENCY_HISTOGRAMS)
    buckets: dict[float, float] = {}
    for s in samples:
        if s.name == family and _traffic(s):
            try:
                bound = float(s.label("le"))
            except ValueError:
                continue
            buckets[bound] = buckets.get(bound, 0.0) + s.value
    return buckets


def order_totals(samples: Sequence[Sample]) -> dict[str, float]:
    totals: dict[str, float] = {}
    for s in samples:
        event = ""
        match = _ORDER_COUNTER.fullmatch(s.name)
        if match:
            event = match.group(1)
        elif _ORDERS_BY_LABEL.fullmatch(s.name):
            event = next((s.label(k) for k in _ORDER_LABELS if s.label(k) in ORDER_EVENTS), "")
        if event:
            event = "failed" if event == "payment_failed" else event
            totals[event] = totals.get(event, 0.0) + s.value
    return totals


def lags(samples: Sequence[Sample]) -> dict[str, float]:
    """The outbox's unpublished rows ("outbox"), and each consumer group's lag summed over
    its partitions (by group name)."""
    found: dict[str, float] = {}
    for s in samples:
        if s.name.endswith(_NOT_GAUGE):
            continue
        if _OUTBOX_LAG.fullmatch(s.name):
            key = "outbox"
        elif _CONSUMER_LAG.fullmatch(s.name):
            key = s.label("group") or s.label("topic") or "consumer"
        else:
            continue
        found[key] = found.get(key, 0.0) + s.value
    return found


def quantile(q: float, buckets: Mapping[float, float]) -> float | None:
    """The q-quantile of a histogram from its cumulative bucket counts, interpolated
    linearly inside the bucket it falls in (as Prometheus' histogram_quantile does);
    None when it counted nothing."""
    bounds = sorted(buckets)
    if not bounds or buckets[bounds[-1]] <= 0:
        return None
    total = buckets[bounds[-1]]
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if math.isinf(bound):
                return lower_bound  # past the last finite bound: report that bound
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (
                count - lower_count
            )
        lower_bound, lower_count = bound, count
    return bounds[-1]


# ---- the charts ----------------------------------------------------------------------


@dataclass(frozen=True)
class Scrape:
    """One part's samples at one moment (monotonic seconds)."""

    at: float
    samples: tuple[Sample, ...]


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    unit: str
    # (part, previous scrape or None, this scrape) → {series label: value}
    compute: Callable[[str, Scrape | None, Scrape], dict[str, float]]


def _requests_per_second(part: str, before: Scrape | None, now: Scrape) -> dict[str, float]:
    if before is None:
        return {}
    a, b = request_total(before.samples), request_total(now.samples)
    if a is None or b is None or b < a or now.at <= before.at:
        return {}  # no counter, or the part restarted (its counters began again)
    return {part: (b - a) / (now.at - before.at)}


def _latency_p95_ms(part: str, before: Scrape | None, now: Scrape) -> dict[str, float]:
    if before is None:
        return {}
    a, b = latency_buckets(before.samples), latency_buckets(now.samples)
    window = {le: count - a.get(le, 0.0) for le, count in b.items()}
    if not window or any(v < 0 for v in window.values()):
        return {}
    p95 = quantile(0.95, window)
    return {} if p95 is None else {part: round(p95 * 1000, 1)}


def _orders_per_minute(part: str, before: Scrape | None, now: Scrape) -> dict[str, float]:
    if before is None or now.at <= before.at:
        return {}
    a, b = order_totals(before.samples), order_totals(now.samples)
    return {
        event: (b[event] - a.get(event, 0.0)) * 60 / (now.at - before.at)
        for event in b
        if b[event] >= a.get(event, 0.0)
    }


def _lags(part: str, before: Scrape | None, now: Scrape) -> dict[str, float]:
    return {f"{part} {name}": value for name, value in lags(now.samples).items()}


CHARTS = (
    Chart("requests", "HTTP requests per second", "req/s", _requests_per_second),
    Chart("latency", "HTTP latency, 95th percentile", "ms", _latency_p95_ms),
    # A counter moved by several parts (Order places, the worker marks paid) is summed.
    Chart("orders", "Orders per minute", "orders/min", _orders_per_minute),
    Chart("lag", "Outbox and consumer lag", "messages", _lags),
)


@dataclass(frozen=True)
class Source:
    """How the last scrape of one part went."""

    part: str
    url: str
    status: str  # ok, no metrics, error
    detail: str = ""

    def as_json(self) -> dict[str, str]:
        return {"part": self.part, "url": self.url, "status": self.status, "detail": self.detail}


class Sampler:
    """Scrapes every part's metrics every `interval` seconds while someone looks (a call
    to `wanted()` in the last `idle_after` seconds) and keeps `keep` ticks of each chart."""

    def __init__(
        self,
        targets: Callable[[], Iterable[tuple[str, str]]],
        *,
        interval: float = 5.0,
        keep: int = 180,
        idle_after: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.targets = targets
        self.interval = interval
        self.idle_after = idle_after
        self.clock = clock
        self.wall = wall
        self._lock = threading.Lock()
        self._ticks: deque[tuple[float, dict[str, dict[str, float]]]] = deque(maxlen=keep)
        self._previous: dict[str, Scrape] = {}
        self._sources: list[Source] = []
        self._wanted_at = -float("inf")
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._client = httpx.Client(timeout=2.0)

    def wanted(self) -> None:
        """Someone looks: keep scraping (and scrape at once after an idle spell)."""
        idle = self.clock() - self._wanted_at >= self.idle_after
        self._wanted_at = self.clock()
        if idle:
            self._wake.set()

    def start(self) -> None:
        threading.Thread(target=self._run, name="metrics-sampler", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if not self._stop.is_set() and self.clock() - self._wanted_at < self.idle_after:
                self.tick()

    def tick(self) -> None:
        """Scrape every part once and record one point per series."""
        values: dict[str, dict[str, float]] = {chart.id: {} for chart in CHARTS}
        sources = []
        for part, url in self.targets():
            if not url:
                sources.append(Source(part, "", "no metrics"))
                continue
            try:
                response = self._client.get(url)
                response.raise_for_status()
            except httpx.HTTPError as err:
                sources.append(Source(part, url, "error", str(err) or type(err).__name__))
                self._previous.pop(part, None)
                continue
            scrape = Scrape(self.clock(), tuple(parse_text(response.text)))
            before = self._previous.get(part)
            for chart in CHARTS:
                for label, value in chart.compute(part, before, scrape).items():
                    merged = values[chart.id].get(label, 0.0) + value
                    values[chart.id][label] = round(merged, 3)
            self._previous[part] = scrape
            sources.append(Source(part, url, "ok"))
        with self._lock:
            self._ticks.append((self.wall(), values))
            self._sources = sources

    def as_json(self) -> dict[str, Any]:
        """Every chart with its points aligned on one time axis (seconds since the epoch):
        `times`, and per series its `values` (null where it had none)."""
        with self._lock:
            ticks = list(self._ticks)
            sources = list(self._sources)
        charts = []
        for chart in CHARTS:
            labels = sorted({label for _, values in ticks for label in values[chart.id]})
            charts.append(
                {
                    "id": chart.id,
                    "title": chart.title,
                    "unit": chart.unit,
                    "times": [round(at, 3) for at, _ in ticks],
                    "series": [
                        {
                            "label": label,
                            "values": [values[chart.id].get(label) for _, values in ticks],
                        }
                        for label in labels
                    ],
                }
            )
        return {
            "interval_s": self.interval,
            "charts": charts,
            "sources": [source.as_json() for source in sources],
        }
