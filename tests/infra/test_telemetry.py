"""shared/telemetry's own rules, without servers: settings, roles, sampling, scrubbing.
(What it does on the real servers is tests/e2e/test_traces.py.)"""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.sampling import Decision
from opentelemetry.trace import SpanContext, SpanKind

from shared.telemetry import context_from
from shared.telemetry.apps import role, service_name
from shared.telemetry.config import TraceSettingError, trace_settings
from shared.telemetry.export import scrub, scrub_text
from shared.telemetry.setup import sampler

CELERY = "/v/site-packages/celery/__main__.py"
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def test_traces_are_off_without_an_endpoint_and_with_the_off_switch() -> None:
    assert not trace_settings({}).enabled
    on = trace_settings({"OTEL_EXPORTER_ZIPKIN_ENDPOINT": "http://127.0.0.1:9411/api/v2/spans"})
    assert on.enabled
    assert on.sample_ratio == 1.0
    off = trace_settings(
        {"OTEL_EXPORTER_ZIPKIN_ENDPOINT": "http://x/api/v2/spans", "OTEL_SDK_DISABLED": "TRUE"}
    )
    assert not off.enabled


@pytest.mark.parametrize("value", ["1.5", "-0.1", "half"])
def test_a_sampling_ratio_outside_0_to_1_is_refused_naming_the_setting(value: str) -> None:
    with pytest.raises(TraceSettingError, match="OTEL_TRACES_SAMPLER_ARG"):
        trace_settings({"OTEL_TRACES_SAMPLER_ARG": value})


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["/v/lib/python3.11/site-packages/gunicorn/__main__.py", "x.wsgi:application"], ""),
        (
            ["/v/site-packages/celery/__main__.py", "-A", "order_site.config.celery", "worker"],
            "worker",
        ),
        (["/v/site-packages/celery/__main__.py", "-A", "order_site.config.celery", "beat"], "beat"),
        (["/repo/order_site/manage.py", "run_outbox_relay"], "relay"),
        (["/repo/order_site/manage.py", "run_order_consumers"], "consumers"),
        (["/repo/bff_site/manage.py", "run_live_updates"], "live"),
        (["/repo/order_site/manage.py", "migrate"], None),
        (["/v/bin/pytest", "tests"], None),
    ],
)
def test_only_long_lived_processes_trace_and_each_is_named_after_its_role(
    argv: list[str], expected: str | None
) -> None:
    assert role(argv) == expected


def test_service_names_are_the_part_names() -> None:
    assert service_name("order", "") == "order"
    assert service_name("order", "relay") == "order-relay"


def test_a_client_call_outside_any_work_starts_no_trace_but_a_request_does() -> None:
    keep_all = sampler(1.0)
    client = keep_all.should_sample(None, 0x1234, "select", SpanKind.CLIENT)
    server = keep_all.should_sample(None, 0x1234, "GET", SpanKind.SERVER)
    assert client.decision is Decision.DROP
    assert server.decision is Decision.RECORD_AND_SAMPLE
    # Under a sampled parent a client call is kept (the caller decided).
    child = keep_all.should_sample(context_from(TRACEPARENT), 0x1234, "select", SpanKind.CLIENT)
    assert child.decision is Decision.RECORD_AND_SAMPLE


def test_a_stored_traceparent_is_continued_and_garbage_is_not() -> None:
    assert context_from(TRACEPARENT) is not None
    assert context_from("") is None
    assert context_from("00-nonsense") is None


def test_secrets_that_slip_into_a_span_are_masked_before_export() -> None:
    context = SpanContext(0x1, 0x2, is_remote=False)
    span = ReadableSpan(
        name="POST /accounts/login/",
        context=context,
        attributes={
            "http.url": "http://127.0.0.1:8001/o/authorize/?code=abc&state=xyz",
            "exception.message": "key (email)=(ann@example.com), card 4242 4242 4242 4242",
            "note": "Authorization: Bearer eyJhbGciOi.abc.def and password=hunter22",
            "net.peer.port": 8001,
        },
    )
    cleaned = dict(scrub(span).attributes or {})
    assert cleaned["http.url"] == "http://127.0.0.1:8001/o/authorize/"
    assert "ann@example.com" not in cleaned["exception.message"]
    assert "4242" not in cleaned["exception.message"]
    assert "eyJhbGciOi" not in cleaned["note"]
    assert "hunter22" not in cleaned["note"]
    assert cleaned["net.peer.port"] == 8001


def test_a_clean_span_is_exported_as_it_is() -> None:
    span = ReadableSpan(name="GET", attributes={"http.route": "api/orders/<int:pk>/"})
    assert scrub(span) is span
    assert scrub_text("SELECT 1 WHERE id = %s") == "SELECT 1 WHERE id = %s"
