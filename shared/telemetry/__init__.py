"""Traces: OpenTelemetry in every site and worker, exported to Zipkin (docs/architecture.md,
"Telemetry").

What the rest of the code uses, all cheap and harmless while tracing is off:

- `traceparent()`: the W3C `traceparent` of the span in force ("" when none), for a row
  that carries its request's trace to a later process (the outbox, a payment);
- `context_from(traceparent)`: the context to continue from such a value;
- `annotate(order_id=…, event_id=…)`: identifiers on the span in force (nothing else goes
  on a span by hand: never a token, a card, an e-mail address or a password);
- `tracer()`: the tracer for the few spans the code starts itself (the relay's publish,
  a consumer's event, a charge).

`shared.telemetry.setup` starts the SDK and the instrumentations once per process; the
Django app `shared.telemetry` (apps.py) does it for the long-lived roles of every site.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

TRACEPARENT = "traceparent"
# Attribute names of our own (OpenTelemetry's advice: a namespace of the project's).
ORDER_ID = "coffeeshop.order_id"
EVENT_ID = "coffeeshop.event_id"
EVENT_TYPE = "coffeeshop.event_type"
PAYMENT_ID = "coffeeshop.payment_id"
_ATTRIBUTES = {
    "order_id": ORDER_ID,
    "event_id": EVENT_ID,
    "event_type": EVENT_TYPE,
    "payment_id": PAYMENT_ID,
}

# W3C Trace Context only: no baggage, which would carry whatever a caller put in it.
PROPAGATOR = TraceContextTextMapPropagator()


def tracer() -> trace.Tracer:
    return trace.get_tracer("coffeeshop")


def traceparent() -> str:
    """The W3C `traceparent` of the span in force, or "" when there is none (tracing off,
    or outside any request and task)."""
    carrier: dict[str, str] = {}
    PROPAGATOR.inject(carrier)
    return carrier.get(TRACEPARENT, "")


def context_from(value: str | bytes | None) -> otel_context.Context | None:
    """The context a stored or received `traceparent` continues (None: start afresh)."""
    if not value:
        return None
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    found = PROPAGATOR.extract({TRACEPARENT: value})
    if not trace.get_current_span(found).get_span_context().is_valid:
        return None
    return found


def annotate(span: trace.Span | None = None, **values: Any) -> None:
    """Put identifiers on `span` (default: the span in force): `order_id`, `event_id`,
    `event_type`, `payment_id`. A None value is left out; an unknown name raises
    KeyError (a typo must fail a test, and nothing else belongs on a span)."""
    span = span or trace.get_current_span()
    if not span.is_recording():
        return
    for name, value in values.items():
        key = _ATTRIBUTES[name]
        if value is not None:
            span.set_attribute(key, value if isinstance(value, int | str) else str(value))
