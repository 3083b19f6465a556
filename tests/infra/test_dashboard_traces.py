"""The dashboard's traces list: Zipkin v2 traces summarised, and no backend said plainly."""

from __future__ import annotations

from devstack.base import free_port
from devstack.dashboard.traces import recent_traces, summarise, zipkin_url

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
UI = "http://127.0.0.1:29411"


def _span(
    span_id: str, service: str, name: str, start: int, duration: int, parent: str = "", **tags: str
) -> dict[str, object]:
    span: dict[str, object] = {
        "traceId": TRACE,
        "id": span_id,
        "name": name,
        "timestamp": start,
        "duration": duration,
        "localEndpoint": {"serviceName": service},
    }
    if parent:
        span["parentId"] = parent
    if tags:
        span["tags"] = tags
    return span


def test_a_trace_is_summarised_by_its_root_span_services_and_whole_length() -> None:
    spans = [
        # Zipkin returns spans in no particular order; the Celery task ends after the root.
        _span("c", "worker", "run/payment_charge_task", 1_000_300, 900_000, parent="b"),
        _span("a", "bff", "POST /api/orders", 1_000_000, 250_000),
        _span("b", "order", "POST /orders", 1_000_100, 200_000, parent="a"),
    ]

    summary = summarise(spans, UI)

    assert summary is not None
    assert summary.as_json() == {
        "trace_id": TRACE,
        "root": "bff: POST /api/orders",
        "root_service": "bff",
        "root_name": "POST /api/orders",
        "start": "1970-01-01T00:00:01+00:00",
        "duration_ms": 900.3,
        "span_count": 3,
        "services": ["bff", "order", "worker"],
        "error": False,
        "link": f"{UI}/zipkin/traces/{TRACE}",
    }


def test_a_span_with_an_error_tag_marks_the_trace_and_a_trace_without_root_uses_its_first() -> None:
    spans = [
        _span("b", "order", "charge", 2_000, 10, parent="missing", error="timeout"),
        _span("a", "order", "GET /menu", 1_000, 10, parent="also-missing"),
    ]

    summary = summarise(spans, UI)

    assert summary is not None
    assert summary.error is True
    assert summary.root_name == "GET /menu"
    assert summarise([], UI) is None


def test_no_backend_is_said_plainly_and_is_no_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"

    recent = recent_traces(url, timeout=2)

    assert recent.available is False
    assert recent.traces == []
    assert recent.problem == f"no traces backend running at {url}"


def test_the_backend_is_found_by_the_stacks_port_else_its_setting_else_the_default() -> None:
    assert zipkin_url({"traces": 31000}, {}) == "http://127.0.0.1:31000"
    assert zipkin_url({}, {"COFFEESHOP_TRACES_PORT": "31001"}) == "http://127.0.0.1:31001"
    assert zipkin_url({}, {}) == "http://127.0.0.1:29411"
