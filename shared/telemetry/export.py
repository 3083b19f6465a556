"""Sending spans to Zipkin: what leaves the process is scrubbed, and a backend that is
down costs one warning, not a log line per batch.

The spans are built to hold no secret (no headers, bodies or query parameters are
recorded; `annotate` takes identifiers only). `scrub` is the second line, as
`shared.logging.RedactSecrets` is for logs: query strings leave URLs, and an e-mail
address, a bearer token, a `password=`-style value or a card-number-like run of digits
found in any text is masked before export.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import threading
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import Status

logger = logging.getLogger("coffeeshop.telemetry")

# Attributes that hold a URL or a path with its query (old and new HTTP conventions).
_URL_KEYS = frozenset({"http.url", "http.target", "url.full", "url.query", "http.request.uri"})
_PATTERNS = [
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), "[email]"),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9\-_.~+/]+=*"), "Bearer ***"),
    (
        re.compile(
            r"(?i)\b(password|passwd|secret|token|access_token|refresh_token|id_token|"
            r"client_secret|authorization|api[_-]?key|code_verifier)(\"?\s*[:=]\s*\"?)[^\s\",&]+"
        ),
        r"\1\2***",
    ),
    # 13 to 19 digits, maybe grouped by spaces or dashes: the shape of a card number.
    (re.compile(r"\b\d(?:[ -]?\d){12,18}\b"), "[digits]"),
]


@functools.lru_cache(maxsize=4096)
def scrub_text(text: str) -> str:
    """`text` with anything secret-looking masked. Remembered per distinct text: a
    process's spans repeat the same statements and routes, and the patterns cost tens
    of microseconds a text (on the export thread, but under the same GIL as requests)."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _scrub_value(key: str, value: Any) -> Any:
    if isinstance(value, str):
        if key in _URL_KEYS:
            value = value.split("?", 1)[0] if key != "url.query" else ""
        return scrub_text(value)
    if isinstance(value, tuple | list) and value and isinstance(value[0], str):
        return tuple(scrub_text(item) for item in value)
    return value


def _scrub_attributes(attributes: Any) -> tuple[dict[str, Any], bool]:
    if not attributes:
        return {}, False
    cleaned = {key: _scrub_value(key, value) for key, value in attributes.items()}
    changed = any(cleaned[key] != value for key, value in attributes.items())
    return cleaned, changed


def scrub(span: ReadableSpan) -> ReadableSpan:
    """`span` itself when nothing in it needs masking, else a copy with it masked."""
    attributes, changed = _scrub_attributes(span.attributes)
    name = scrub_text(span.name)
    events = []
    for event in span.events:
        event_attributes, event_changed = _scrub_attributes(event.attributes)
        changed = changed or event_changed
        events.append(Event(event.name, event_attributes, event.timestamp))
    status = span.status
    if status.description:
        description = scrub_text(status.description)
        if description != status.description:
            changed = True
            status = Status(status.status_code, description)
    if not changed and name == span.name:
        return span
    return ReadableSpan(
        name=name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=attributes,
        events=events,
        links=span.links,
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class GuardedExporter(SpanExporter):
    """Scrubs the spans, then hands them to `inner`. A failure (the backend refused,
    unreachable, slow) never raises into the SDK's worker: the batch is dropped, one
    warning says so, and nothing more is said until an export succeeds again (then one
    line says the backend is back)."""

    def __init__(self, inner: SpanExporter, *, endpoint: str) -> None:
        self.inner = inner
        self.endpoint = endpoint
        self.failing = False
        self.dropped = 0
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            result = self.inner.export([scrub(span) for span in spans])
            reason = "it refused the spans"
        except Exception as exc:
            result = SpanExportResult.FAILURE
            reason = type(exc).__name__
        with self._lock:
            if result is SpanExportResult.SUCCESS:
                if self.failing:
                    self.failing = False
                    logger.info(
                        "trace backend %s answers again (%d spans were dropped)",
                        self.endpoint,
                        self.dropped,
                    )
                    self.dropped = 0
                return result
            self.dropped += len(spans)
            if not self.failing:
                self.failing = True
                logger.warning(
                    "trace backend %s cannot be reached (%s): this process (pid %d) drops "
                    "its spans until it answers; serving goes on",
                    self.endpoint,
                    reason,
                    os.getpid(),
                )
        return SpanExportResult.FAILURE

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)
