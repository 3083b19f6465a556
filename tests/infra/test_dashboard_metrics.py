"""The dashboard's charts: the Prometheus text format read, and what each chart makes of it."""

from __future__ import annotations

import math

import pytest

from devstack.dashboard.metrics import (
    CHARTS,
    Sample,
    Scrape,
    lags,
    order_totals,
    parse_text,
    quantile,
    request_total,
)

EXPOSITION = """\
# HELP coffeeshop_http_requests_total Requests served.
# TYPE coffeeshop_http_requests_total counter
coffeeshop_http_requests_total{route="/api/menu",method="GET",status="200"} 10
coffeeshop_http_requests_total{route="/api/orders",method="POST",status="201"} 4.0
coffeeshop_http_requests_total{route="readyz",method="GET",status="200"} 100
coffeeshop_http_requests_created{route="/api/menu",method="GET",status="200"} 1.7e9
# TYPE coffeeshop_http_request_duration_seconds histogram
coffeeshop_http_request_duration_seconds_bucket{route="/api/menu",le="0.01"} 6
coffeeshop_http_request_duration_seconds_bucket{route="/api/menu",le="0.1"} 10
coffeeshop_http_request_duration_seconds_bucket{route="/api/menu",le="+Inf"} 10
coffeeshop_http_request_duration_seconds_count{route="/api/menu"} 10
coffeeshop_http_request_duration_seconds_bucket{route="readyz",le="0.01"} 0
coffeeshop_http_request_duration_seconds_bucket{route="readyz",le="0.1"} 0
coffeeshop_http_request_duration_seconds_bucket{route="readyz",le="+Inf"} 100
coffeeshop_orders_placed_total 3
coffeeshop_orders_paid_total 2
coffeeshop_outbox_unpublished_events 2
coffeeshop_outbox_oldest_unpublished_age_seconds 0.25
coffeeshop_breaker_open_seconds -Inf
odd_label{text="say \\"hi\\"\\n",path="C:\\\\x"} NaN 1700000000000
not a sample line
"""


def _scrape(at: float, text: str) -> Scrape:
    return Scrape(at, tuple(parse_text(text)))


def test_the_text_format_is_read_with_labels_escapes_and_special_values() -> None:
    samples = parse_text(EXPOSITION)

    assert samples[0] == Sample(
        "coffeeshop_http_requests_total",
        (("route", "/api/menu"), ("method", "GET"), ("status", "200")),
        10.0,
    )
    odd = samples[-1]
    assert odd.name == "odd_label"
    assert odd.labels == (("text", 'say "hi"\n'), ("path", "C:\\x"))
    assert math.isnan(odd.value)
    assert samples[6].label("le") == "+Inf"
    assert samples[-2].value == -math.inf
    assert len(samples) == 17  # comments and the line that is no sample are left out


def test_request_total_adds_every_route_but_the_health_probes() -> None:
    assert request_total(parse_text(EXPOSITION)) == 14.0
    assert request_total(parse_text("process_cpu_seconds_total 3\n")) is None


def test_quantile_interpolates_inside_the_bucket_like_prometheus() -> None:
    buckets = {0.01: 6.0, 0.1: 10.0, math.inf: 10.0}

    assert quantile(0.5, buckets) == pytest.approx(0.01 * 5 / 6)
    assert quantile(0.95, buckets) == pytest.approx(0.01 + 0.09 * (9.5 - 6) / 4)
    assert quantile(0.95, {0.1: 0.0, math.inf: 0.0}) is None
    # Past the last finite bound the bound is the answer.
    assert quantile(0.99, {0.1: 1.0, math.inf: 10.0}) == 0.1


def test_orders_are_counted_by_event_from_names_or_labels() -> None:
    by_name = parse_text(EXPOSITION)
    by_label = parse_text(
        'orders_total{event="placed"} 5\norders_total{event="payment_failed"} 1\n'
        'orders_total{event="mystery"} 9\n'
    )

    assert order_totals(by_name) == {"placed": 3.0, "paid": 2.0}
    assert order_totals(by_label) == {"placed": 5.0, "failed": 1.0}


def test_lags_are_the_outbox_rows_waiting_and_each_consumer_groups_messages() -> None:
    samples = parse_text(
        EXPOSITION
        + 'coffeeshop_kafka_consumer_lag{group="order-users",topic="t",partition="0"} 3\n'
        + 'coffeeshop_kafka_consumer_lag{group="order-users",topic="t",partition="1"} 4\n'
        + 'coffeeshop_kafka_consumer_lag{group="order-notifications",topic="t",partition="0"} 0\n'
    )

    assert lags(samples) == {"outbox": 2.0, "order-users": 7.0, "order-notifications": 0.0}


def _chart(chart_id: str):  # type: ignore[no-untyped-def]
    return next(chart for chart in CHARTS if chart.id == chart_id)


def test_rates_come_from_two_scrapes_and_a_restarted_counter_gives_no_point() -> None:
    before = _scrape(100.0, EXPOSITION)
    # Ten seconds later: 30 more requests to the menu, all between 10 and 100 ms, and two
    # more orders placed.
    later = EXPOSITION.replace("} 10\n", "} 40\n").replace(
        "coffeeshop_orders_placed_total 3", "coffeeshop_orders_placed_total 5"
    )
    after = _scrape(110.0, later)
    restarted = _scrape(120.0, "coffeeshop_http_requests_total 1\n")

    assert _chart("requests").compute("order", None, before) == {}
    assert _chart("requests").compute("order", before, after) == {"order": 3.0}
    assert _chart("requests").compute("order", after, restarted) == {}
    # 30 new requests, all between 10 and 100 ms: the 95th percentile is 95.5 ms.
    assert _chart("latency").compute("order", before, after) == {"order": 95.5}
    assert _chart("orders").compute("order", before, after) == {"placed": 12.0, "paid": 0.0}
    assert _chart("lag").compute("order", None, after) == {"order outbox": 2.0}
