"""Metrics in Prometheus text format for every part: what is counted, and where it is served.

Every metric is named here, so one page (README, "Metrics") lists them all. Labels hold
route patterns, downstream and consumer-group names, statuses and task names: sets
fixed by the code, never a path, an id, a token, a card or an e-mail address.

Served never on a site's public port: each part that has metrics answers them on its
own address, `METRICS_ADDR` (`host:port`; locally 127.0.0.1 and a port of the block
`COFFEESHOP_METRICS_PORT`, devstack/stack.py), from a thread of the one process that
outlives the others: the gunicorn master (`shared/gunicorn_config.py`), the Celery
worker's main process (`celery_connect`), or the single process of a relay or consumer
(`serve` at the start of its command). Unset, nothing listens (docs/decisions.md,
"Metrics").

Several processes, one answer: with `PROMETHEUS_MULTIPROC_DIR` (one folder per part)
each process writes its values to memory-mapped files named after its pid, and the
serving process adds them up when scraped (prometheus_client's multiprocess mode). A
gauge says how: streams open are summed over the living processes, a consumer's lag is
the largest a living process reports. At its start the serving process removes the
files of processes before it (a restart starts from zero); a gunicorn or Celery child
that exits takes its gauges with it (`process_dead`), its counts stay.

Gauges that describe the data rather than a process (outbox lag, queue lengths, breaker
states) are read when scraped, by the site's collectors (`METRICS_COLLECTORS` in its
settings, served by the gunicorn master): scraping twice a minute costs a few indexed
queries, and every replica of a worker would report the same number anyway.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

logger = logging.getLogger("coffeeshop.metrics")

ADDR_SETTING = "METRICS_ADDR"
DIR_SETTING = "PROMETHEUS_MULTIPROC_DIR"

# The folder must exist before the first value is made (an unlabelled metric makes its
# value, and its file, when it is defined below).
if os.environ.get(DIR_SETTING):
    Path(os.environ[DIR_SETTING]).mkdir(parents=True, exist_ok=True)

# ---- requests (every site: RequestMetricsMiddleware) -------------------------------------

HTTP_REQUESTS = Counter(
    "coffeeshop_http_requests",
    "Requests answered, by route pattern, method and status code (5xx: errors).",
    ["route", "method", "status"],
)
HTTP_DURATION = Histogram(
    "coffeeshop_http_request_duration_seconds",
    "Time from the request reaching the site's middleware to its answer, by route pattern.",
    ["route", "method"],
)
# The route label of a request no URL pattern matched: a static file, or nothing.
STATIC_ROUTE, UNMATCHED_ROUTE = "<static>", "<unmatched>"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# ---- calls to other services (shared/http.py) --------------------------------------------

DOWNSTREAM_DURATION = Histogram(
    "coffeeshop_downstream_request_duration_seconds",
    "One attempt of a call to another service (the payment provider, Order, Identity), by "
    "outcome: answered, or failed (408/429/5xx, a timeout, a connection error).",
    ["downstream", "outcome"],
)
BREAKER_STATES = {"closed": 0, "half_open": 1, "open": 2}

# ---- the order domain (order_site) ------------------------------------------------------

ORDERS_PLACED = Counter("coffeeshop_orders_placed", "Orders placed (a replayed placement: not).")
ORDERS_PAID = Counter("coffeeshop_orders_paid", "Orders whose charge succeeded.")
ORDERS_PAYMENT_FAILED = Counter(
    "coffeeshop_orders_payment_failed", "Orders whose charge the provider declined."
)
ORDERS_REFUNDED = Counter(
    "coffeeshop_orders_refunded", "Refunds the provider carried out (in full or in part)."
)

# ---- events (shared/events.py) ----------------------------------------------------------

OUTBOX_PUBLISHED = Counter(
    "coffeeshop_outbox_published_events", "Outbox rows published to Kafka by this relay."
)
CONSUMER_LAG = Gauge(
    "coffeeshop_kafka_consumer_lag",
    "Messages of a partition not yet committed by the consumer group (librdkafka's "
    "statistics, every few seconds).",
    ["group", "topic", "partition"],
    multiprocess_mode="livemax",
)
CONSUMER_STATS_MS = 5000

# ---- the BFF's live updates -------------------------------------------------------------

LIVE_STREAMS = Gauge(
    "coffeeshop_live_streams_open",
    "Server-sent event streams open to browsers (GET /api/events).",
    multiprocess_mode="livesum",
)

# ---- Celery ------------------------------------------------------------------------------

CELERY_TASKS = Counter(
    "coffeeshop_celery_tasks", "Celery tasks run, by task name and end state.", ["task", "state"]
)
CELERY_TASK_DURATION = Histogram(
    "coffeeshop_celery_task_duration_seconds", "How long a Celery task ran.", ["task"]
)


# ---- request middleware ------------------------------------------------------------------


def route_of(request: Any, response: Any) -> str:
    """The URL pattern that served the request (`api/orders/<int:order_id>`), never the
    path itself: one label value per route, whatever the ids."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return str(match.route) or "/"
    from django.http import FileResponse  # here: shared.events imports this module

    return STATIC_ROUTE if isinstance(response, FileResponse) else UNMATCHED_ROUTE


# The labelled children by (route, method, status): `labels()` checks and locks on every
# call, a dict look-up does not (the key set is as bounded as the labels).
_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def _observe(request: Any, response: Any, seconds: float) -> None:
    route = route_of(request, response)
    method = request.method if request.method in METHODS else "other"
    key = (route, method, response.status_code)
    children = _children.get(key)
    if children is None:
        children = _children.setdefault(
            key,
            (
                HTTP_REQUESTS.labels(route, method, str(response.status_code)),
                HTTP_DURATION.labels(route, method),
            ),
        )
    children[0].inc()
    children[1].observe(seconds)


class RequestMetricsMiddleware:
    """Counts and times every answer by route pattern, method and status (outermost, so
    it sees the answers of the middlewares below it too). Sync and async: under ASGI
    neither chain pays a crossing for it."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: Any) -> Any:
        if self.is_async:
            return self._acall(request)
        started = time.perf_counter()
        response = self.get_response(request)
        _observe(request, response, time.perf_counter() - started)
        return response

    async def _acall(self, request: Any) -> Any:
        started = time.perf_counter()
        response = await self.get_response(request)
        _observe(request, response, time.perf_counter() - started)
        return response


# ---- what a part reads when scraped ------------------------------------------------------


class ScrapeCollector(Collector):
    """Metrics read when scraped by `read()`; when it fails the scrape still answers,
    without them, and the log says why."""

    def __init__(self, name: str, read: Callable[[], Iterable[Metric]]) -> None:
        self.name = name
        self.read = read

    def collect(self) -> Iterator[Metric]:
        try:
            yield from list(self.read())
        except Exception as exc:
            logger.warning("metrics %s: not read (%s)", self.name, exc)


def breaker_states(breakers: Iterable[Any]) -> Metric:
    """`coffeeshop_circuit_breaker_state`: 0 closed, 1 half open, 2 open, per downstream
    (read from the breakers' shared state: shared/resilience.py)."""
    from prometheus_client.core import GaugeMetricFamily

    family = GaugeMetricFamily(
        "coffeeshop_circuit_breaker_state",
        "Circuit breaker of a downstream: 0 closed, 1 half open, 2 open.",
        labels=["downstream"],
    )
    for breaker in breakers:
        family.add_metric([breaker.name], BREAKER_STATES[breaker.state()])
    return family


def gauge(name: str, documentation: str, value: float) -> Metric:
    from prometheus_client.core import GaugeMetricFamily

    return GaugeMetricFamily(name, documentation, value=value)


def labelled_gauge(name: str, documentation: str, label: str, values: dict[str, float]) -> Metric:
    from prometheus_client.core import GaugeMetricFamily

    family = GaugeMetricFamily(name, documentation, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


def outbox_gauges(waiting: int, oldest: datetime | None) -> list[Metric]:
    """The outbox's lag: rows the relay has not published, and how old the oldest is."""
    age = (datetime.now(UTC) - oldest).total_seconds() if oldest is not None else 0.0
    return [
        gauge(
            "coffeeshop_outbox_unpublished_events",
            "Outbox rows written and not yet published to Kafka.",
            waiting,
        ),
        gauge(
            "coffeeshop_outbox_oldest_unpublished_age_seconds",
            "Age of the oldest outbox row not yet published (0: none waits).",
            max(0.0, age),
        ),
    ]


# ---- serving -----------------------------------------------------------------------------

_PID_FILE = re.compile(r"_(\d+)\.db$")


def multiprocess_dir() -> Path | None:
    value = os.environ.get(DIR_SETTING, "")
    return Path(value) if value else None


def multiprocess_dir_prepare() -> None:
    """Remove the files of every process but this one from the part's folder: the ones
    a previous run left (a restart counts from zero). Called by the serving process
    before it forks anything."""
    folder = multiprocess_dir()
    if folder is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    me = os.getpid()
    for path in folder.glob("*.db"):
        found = _PID_FILE.search(path.name)
        if found and int(found[1]) != me:
            path.unlink(missing_ok=True)


def process_dead(pid: int) -> None:
    """A child process ended: its gauges stop counting (its counts stay)."""
    if multiprocess_dir() is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


def part_registry(collectors: Sequence[Collector] = ()) -> CollectorRegistry:
    """What this part answers: every process's values (multiprocess mode) or this one's,
    and `collectors`."""
    if multiprocess_dir() is not None:
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY

        registry = CollectorRegistry()
        registry.register(REGISTRY)
    for collector in collectors:
        registry.register(collector)
    return registry


def parse_addr(addr: str) -> tuple[str, int]:
    """`host:port` (IPv4 or a name); raises ValueError naming the setting."""
    host, sep, port = addr.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"{ADDR_SETTING}={addr!r}: expected host:port")
    return host, int(port)


def serve(collectors: Sequence[Collector] = ()) -> str:
    """Answer this part's metrics at `METRICS_ADDR` from a daemon thread; the URL, or ""
    when the setting is unset. Call it in the process that outlives the others, before
    it forks any."""
    addr = os.environ.get(ADDR_SETTING, "").strip()
    if not addr:
        return ""
    global _server, _server_pid
    host, port = parse_addr(addr)
    multiprocess_dir_prepare()
    _server, _thread = start_http_server(port, addr=host, registry=part_registry(collectors))
    _server_pid = os.getpid()
    url = f"http://{host}:{port}/metrics"
    logger.info("metrics at %s", url)
    return url


_server: Any = None
_server_pid = 0


def forked() -> None:
    """In a child the serving process forked (a gunicorn worker, a Celery pool process):
    close the copy of the metrics port the fork gave it, so the port belongs to the
    serving process alone and goes with it. In the serving process itself (Celery's
    solo pool says "process init" there too) nothing is closed."""
    if _server is not None and os.getpid() != _server_pid:
        _server.socket.close()


def site_collectors() -> list[Collector]:
    """What the site's setting `METRICS_COLLECTORS` (the dotted path of a function
    answering a list of collectors) gives, once Django's apps are loaded; nothing before
    (a gunicorn without `--preload`) or without the setting."""
    from django.apps import apps
    from django.conf import settings
    from django.utils.module_loading import import_string

    path = getattr(settings, "METRICS_COLLECTORS", "") if apps.ready else ""
    return list(import_string(path)()) if path else []


# ---- Kafka consumers ---------------------------------------------------------------------


def consumer_stats(group: str) -> Callable[[str], None]:
    """librdkafka's `stats_cb` for one consumer group: its lag per assigned partition
    (`consumer_lag`: high watermark minus the committed offset) into
    `coffeeshop_kafka_consumer_lag`; a partition no longer assigned is dropped."""
    shown: set[tuple[str, str]] = set()

    def on_stats(raw: str) -> None:
        try:
            topics = json.loads(raw).get("topics", {})
        except ValueError:
            return
        now: set[tuple[str, str]] = set()
        for topic, data in topics.items():
            for partition, stats in data.get("partitions", {}).items():
                lag = stats.get("consumer_lag", -1)
                if partition == "-1" or lag is None or lag < 0:
                    continue
                CONSUMER_LAG.labels(group, topic, partition).set(lag)
                now.add((topic, partition))
        for topic, partition in shown - now:
            # In multiprocess mode a value once written stays in the file: 0 first, so a
            # partition handed to another process reads what that one says (livemax).
            CONSUMER_LAG.labels(group, topic, partition).set(0)
            CONSUMER_LAG.remove(group, topic, partition)
        shown.clear()
        shown.update(now)

    return on_stats


# ---- Celery ------------------------------------------------------------------------------


def celery_connect() -> None:
    """Celery's signals, for a site's Celery app: the worker's main process serves the
    metrics of its pool (`worker_init`, before the pool forks), a pool process that ends
    takes its gauges with it, and every task is counted and timed by name. Connecting
    again changes nothing (each receiver has its `dispatch_uid`)."""
    from celery import signals

    receivers: list[tuple[Any, Callable[..., None]]] = [
        (signals.worker_init, _celery_serve),
        (signals.worker_process_init, _celery_forked),
        (signals.worker_process_shutdown, _celery_process_dead),
        (signals.task_prerun, _celery_task_began),
        (signals.task_postrun, _celery_task_ended),
    ]
    for signal, receiver in receivers:
        signal.connect(receiver, weak=False, dispatch_uid=f"coffeeshop.metrics.{receiver.__name__}")


_task_started: dict[str, float] = {}


def _celery_serve(**kwargs: Any) -> None:
    serve()


def _celery_forked(**kwargs: Any) -> None:
    forked()


def _celery_process_dead(pid: int | None = None, **kwargs: Any) -> None:
    process_dead(pid or os.getpid())


def _celery_task_began(task_id: str = "", **kwargs: Any) -> None:
    _task_started[task_id] = time.perf_counter()


def _celery_task_ended(
    task_id: str = "", task: Any = None, state: str | None = None, **kwargs: Any
) -> None:
    began = _task_started.pop(task_id, None)
    name = str(getattr(task, "name", "") or "unknown")
    CELERY_TASKS.labels(name, state or "UNKNOWN").inc()
    if began is not None:
        CELERY_TASK_DURATION.labels(name).observe(time.perf_counter() - began)
