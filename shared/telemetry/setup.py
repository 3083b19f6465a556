"""Starting traces in one process: the SDK, the Zipkin exporter and the instrumentations.

`start()` runs once per process, before the first request or task (the Django app
`shared.telemetry` calls it from `ready()` for the long-lived roles; gunicorn's
`--preload` master and Celery's prefork parent start it before they fork, and the SDK's
batch processor starts its export thread again in each child).

Sampling: a trace begun elsewhere keeps its caller's decision (the `traceparent` flag);
a new one is kept with the configured ratio, and only where work begins, a request
served or a message sent or taken. A database, cache or HTTP call made outside of any
(a relay's idle poll, Celery's broker poll) starts no trace: those would bury the
useful ones under thousands of one-span traces.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from collections.abc import Sequence

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.propagate import set_global_textmap
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import (
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
)
from opentelemetry.trace import Link, SpanKind
from opentelemetry.util.types import Attributes

from shared.telemetry import PROPAGATOR
from shared.telemetry.config import TraceSettings
from shared.telemetry.export import GuardedExporter

logger = logging.getLogger("coffeeshop.telemetry")

# Paths whose requests are never traced: probes (every few seconds from the
# orchestrator or the kubelet), Prometheus scrapes, static files, and the BFF's live
# stream (one request held open for minutes). Regular expressions searched in the URL.
EXCLUDED_URLS = "/healthz$,/readyz$,/metrics$,/static/,/api/events$"

# The batch processor: spans wait in a queue and leave in batches from a thread of
# their own. A bigger batch and a longer delay than the SDK's (512 spans, 5 s) mean
# fewer, larger posts to the backend (figures: docs/decisions.md, "Traces").
EXPORT_DELAY_MS = 2000
EXPORT_BATCH = 512
QUEUE_SIZE = 8192
EXPORT_TIMEOUT_S = 3.0

_started: TraceSettings | None = None
_lock = threading.Lock()


class EntryPointRoots(Sampler):
    """For a span with no parent: keep it with `ratio` when it begins work (a request
    served, a message sent or taken, a span of ours), drop it when it is a client call
    made outside of any work (CLIENT)."""

    def __init__(self, ratio: float) -> None:
        self.ratio = TraceIdRatioBased(ratio)

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: trace.TraceState | None = None,
    ) -> SamplingResult:
        if kind is SpanKind.CLIENT:
            return SamplingResult(Decision.DROP)
        return self.ratio.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"EntryPointRoots{{{self.ratio.get_description()}}}"


def sampler(ratio: float) -> Sampler:
    return ParentBased(root=EntryPointRoots(ratio))


def start(settings: TraceSettings, *, service_name: str) -> bool:
    """Start traces in this process as `service_name` (unless the settings turn them off);
    returns whether traces are on. A second call changes nothing."""
    global _started
    with _lock:
        if _started is not None:
            return _started.enabled
        _started = settings
        if not settings.enabled:
            return False
        set_global_textmap(PROPAGATOR)
        provider = TracerProvider(
            resource=Resource.create({SERVICE_NAME: settings.service_name or service_name}),
            sampler=sampler(settings.sample_ratio),
        )
        provider.add_span_processor(
            BatchSpanProcessor(
                GuardedExporter(_zipkin(settings.endpoint), endpoint=settings.endpoint),
                max_queue_size=QUEUE_SIZE,
                max_export_batch_size=EXPORT_BATCH,
                schedule_delay_millis=EXPORT_DELAY_MS,
            )
        )
        trace.set_tracer_provider(provider)
        _instrument()
        logger.info(
            "traces on: %s to %s, %.0f%% of new traces kept",
            settings.service_name or service_name,
            settings.endpoint,
            settings.sample_ratio * 100,
        )
        return True


def _zipkin(endpoint: str) -> SpanExporter:
    from opentelemetry.exporter.zipkin.json import ZipkinExporter

    return ZipkinExporter(endpoint=endpoint, timeout=int(EXPORT_TIMEOUT_S))


def _instrument() -> None:
    """Django (requests served), psycopg (SQL), redis (cache, sessions, Celery's broker),
    httpx (calls to other services: `shared.http`, the OIDC client) and Celery (tasks
    sent and run); Kafka's spans are our own (`shared.events`)."""
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    DjangoInstrumentor().instrument(excluded_urls=EXCLUDED_URLS)
    PsycopgInstrumentor().instrument(enable_commenter=False, capture_parameters=False)
    RedisInstrumentor().instrument()
    HTTPXClientInstrumentor().instrument()
    if importlib.util.find_spec("celery") is not None:  # not in the BFF's image
        from opentelemetry.instrumentation.celery import CeleryInstrumentor

        CeleryInstrumentor().instrument()
