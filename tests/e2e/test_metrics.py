"""Metrics: every site and worker answers them on a loopback port of its own, in the
Prometheus text format, and the order domain's counters move with a real journey through
the BFF; the BFF's public port serves none (shared/metrics.py, docs/decisions.md).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from devstack.cli import demo_password
from devstack.stack import METRICS_PARTS, Stack
from tests.e2e.browserless import browser_client, sign_in
from tests.e2e.cards import card_token
from tests.e2e.conftest import _run

DECLINED_CARD = "4000000000000002"
CUSTOMER = "customer@coffeeshop.local"
# Every part of Order's site: a counter of the order domain may move in any of them.
ORDER_PARTS = ("order", "worker", "order-relay", "order-consumers")
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _scrape(url: str) -> tuple[httpx.Response, Samples]:
    """The metrics at `url`, parsed by prometheus_client's own parser (which raises on
    anything that is not the text format)."""
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200, response.text[:500]
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return response, samples


def _value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= set(ls))


@pytest.fixture(scope="module")
def status(system: dict[str, Any]) -> dict[str, dict[str, Any]]:
    result = _run(["status", "--json"], system["env"])
    return {part["name"]: part for part in json.loads(result.stdout)["parts"]}


@pytest.fixture(scope="module")
def urls(status: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {name: part["metrics"] for name, part in status.items() if part["metrics"]}


def _total(urls: dict[str, str], parts: tuple[str, ...], name: str, **labels: str) -> float:
    return sum(_value(_scrape(urls[part])[1], name, **labels) for part in parts)


def _eventually(read: Callable[[], float], wanted: float, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while (got := read()) != wanted:
        assert time.monotonic() < deadline, f"{what}: {got}, wanted {wanted}"
        time.sleep(0.5)


def test_status_json_names_the_metrics_url_of_each_part_that_has_one(
    status: dict[str, dict[str, Any]], system: dict[str, Any]
) -> None:
    base = system["ports"]["metrics"]
    for index, part in enumerate(METRICS_PARTS):
        assert status[part]["metrics"] == f"http://127.0.0.1:{base + index}/metrics"
    # In Dapr mode each sidecar is a part too, and names daprd's own metrics endpoint.
    sidecars = {name for name, row in status.items() if row["kind"] == "sidecar"}
    assert {name for name, row in status.items() if row["metrics"]} == set(METRICS_PARTS) | sidecars
    assert status["order-beat"]["metrics"] == ""
    assert status["postgres"]["metrics"] == ""
    for name in sidecars:
        response, samples = _scrape(status[name]["metrics"])
        assert response.url.host == "127.0.0.1"
        assert any(metric.startswith("dapr_") for metric, _ in samples), name


@pytest.mark.parametrize("part", METRICS_PARTS)
def test_each_part_answers_its_metrics_in_the_prometheus_text_format_on_loopback_only(
    urls: dict[str, str], status: dict[str, dict[str, Any]], part: str
) -> None:
    response, samples = _scrape(urls[part])
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert samples, f"{part} answered no sample"
    # The port is held by the part's own process alone (the gunicorn master, the Celery
    # worker's main process, the command: not their children), bound to 127.0.0.1 only.
    port = int(urls[part].rsplit(":", 1)[1].split("/")[0])
    listening = [
        c
        for c in psutil.net_connections("tcp")
        if c.status == psutil.CONN_LISTEN and c.laddr.port == port
    ]
    assert {c.laddr.ip for c in listening} == {"127.0.0.1"}
    assert {c.pid for c in listening} == {status[part]["pid"]}


@pytest.mark.parametrize("path", ["/metrics", "/metrics/", "/api/metrics"])
def test_the_public_bff_port_serves_no_metrics(system: dict[str, Any], path: str) -> None:
    response = httpx.get(f"http://127.0.0.1:{system['ports']['bff']}{path}", timeout=10)
    assert response.status_code == 404
    assert "coffeeshop_http_requests" not in response.text
    assert "text/plain" not in response.headers.get("content-type", "")


def test_requests_of_every_gunicorn_worker_are_counted_once_by_route_pattern(
    system: dict[str, Any], urls: dict[str, str]
) -> None:
    order = f"http://127.0.0.1:{system['ports']['order']}"
    labels = {"route": "healthz", "method": "GET", "status": "200"}
    before = _value(_scrape(urls["order"])[1], "coffeeshop_http_requests_total", **labels)
    # New connections each time, so both of the site's workers take some.
    for _ in range(40):
        assert httpx.get(f"{order}/healthz").status_code == 200
    after = _value(_scrape(urls["order"])[1], "coffeeshop_http_requests_total", **labels)
    assert after - before == 40
    unknown = httpx.get(f"{order}/no-such-page/12345")
    assert unknown.status_code == 404
    samples = _scrape(urls["order"])[1]
    assert _value(samples, "coffeeshop_http_requests_total", route="<unmatched>", status="404")
    assert not [ls for (_, ls) in samples if "12345" in str(ls)]


def test_a_placed_paid_declined_and_refunded_journey_moves_the_domain_counters(
    system: dict[str, Any], system_stack: Stack, urls: dict[str, str]
) -> None:
    password = demo_password(system_stack)
    customer = browser_client(f"http://127.0.0.1:{system['ports']['bff']}")
    sign_in(customer, email=CUSTOMER, password=password)
    names = [
        "coffeeshop_orders_placed_total",
        "coffeeshop_orders_paid_total",
        "coffeeshop_orders_payment_failed_total",
        "coffeeshop_orders_refunded_total",
    ]
    before = {name: _total(urls, ORDER_PARTS, name) for name in names}
    provider_calls = _total(
        urls,
        ("worker",),
        "coffeeshop_downstream_request_duration_seconds_count",
        downstream="payment provider",
    )
    published = _total(urls, ("order-relay",), "coffeeshop_outbox_published_events_total")

    line = _donut(customer)
    paid = _place(customer, {"lines": [line], "payment_method": card_token(customer)})
    declined = _place(
        customer, {"lines": [line], "payment_method": card_token(customer, DECLINED_CARD)}
    )
    assert (paid.status_code, declined.status_code) == (201, 201), paid.text + declined.text
    paid_id = paid.json()["id"]
    _wait(customer, paid_id, lambda o: o["status"] == "placed")
    _wait(customer, declined.json()["id"], lambda o: o["status"] == "payment_failed")
    cancel = customer.post(
        f"/api/orders/{paid_id}/cancel", headers={"X-CSRF-Token": _csrf(customer)}
    )
    assert cancel.status_code == 200, cancel.text
    _wait(customer, paid_id, lambda o: o["refunded"])

    moved = {"placed": 2, "paid": 1, "payment_failed": 1, "refunded": 1}
    for name, delta in zip(names, moved.values(), strict=True):
        _eventually(
            lambda name=name: _total(urls, ORDER_PARTS, name) - before[name],  # type: ignore[misc]
            delta,
            name,
        )
    # Two charges and a refund at the provider; the events of all of it published.
    calls = _total(
        urls,
        ("worker",),
        "coffeeshop_downstream_request_duration_seconds_count",
        downstream="payment provider",
    )
    assert calls - provider_calls >= 3
    assert _total(urls, ("order-relay",), "coffeeshop_outbox_published_events_total") > published
    bff = _scrape(urls["bff"])[1]
    assert _value(
        bff, "coffeeshop_http_requests_total", route="api/orders", method="POST", status="201"
    )
    assert _value(
        bff,
        "coffeeshop_http_request_duration_seconds_count",
        route="api/orders/<int:order_id>/cancel",
    )
    assert not [ls for (_, ls) in bff if f"/{paid_id}" in str(ls)]
    worker = _scrape(urls["worker"])[1]
    assert _value(worker, "coffeeshop_celery_tasks_total", state="SUCCESS")


def test_the_gauges_read_when_scraped_describe_the_outbox_the_queues_and_the_breakers(
    urls: dict[str, str],
) -> None:
    order = _scrape(urls["order"])[1]
    for status in ("placed", "in_preparation", "ready"):
        assert ("coffeeshop_barista_queue_orders", (("status", status),)) in order
    assert ("coffeeshop_celery_queue_length", (("queue", "celery"),)) in order
    assert ("coffeeshop_outbox_unpublished_events", ()) in order
    assert order[("coffeeshop_outbox_oldest_unpublished_age_seconds", ())] >= 0
    breaker = ("coffeeshop_circuit_breaker_state", (("downstream", "payment provider"),))
    assert order[breaker] == 0  # closed
    identity = _scrape(urls["identity"])[1]
    assert ("coffeeshop_outbox_unpublished_events", ()) in identity
    bff = _scrape(urls["bff"])[1]
    for downstream in ("order", "identity"):
        assert bff[("coffeeshop_circuit_breaker_state", (("downstream", downstream),))] == 0


def test_each_consumer_reports_its_lag_per_partition(urls: dict[str, str]) -> None:
    groups = {
        "order-consumers": {"order-users", "order-notifications"},
        "bff-live": {"bff-live"},
    }
    deadline = time.monotonic() + 60
    for part, wanted in groups.items():
        while True:
            samples = _scrape(urls[part])[1]
            found = {
                dict(ls)["group"] for (n, ls) in samples if n == "coffeeshop_kafka_consumer_lag"
            }
            if found == wanted:
                break
            assert time.monotonic() < deadline, f"{part}: lag of {found}, wanted {wanted}"
            time.sleep(1)
        assert all(v >= 0 for (n, _), v in samples.items() if n == "coffeeshop_kafka_consumer_lag")


def test_an_open_live_stream_is_counted_while_it_is_open(
    system: dict[str, Any], system_stack: Stack, urls: dict[str, str]
) -> None:
    customer = browser_client(f"http://127.0.0.1:{system['ports']['bff']}")
    sign_in(customer, email=CUSTOMER, password=demo_password(system_stack))

    def streams() -> float:
        return _value(_scrape(urls["bff"])[1], "coffeeshop_live_streams_open")

    before = streams()
    opened = threading.Event()
    done = threading.Event()

    def listen() -> None:
        with customer.stream("GET", "/api/events", timeout=60) as stream:
            for raw in stream.iter_lines():
                if raw.startswith("event: ready"):
                    opened.set()
                    done.wait(30)
                    return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert opened.wait(30), "the stream did not open"
    assert streams() == before + 1
    done.set()
    listener.join(10)
    # The server sees the browser gone at its next write (a heartbeat at the latest).
    _eventually(streams, before, "streams open after the browser left", timeout=40)


def test_no_metric_holds_a_password_token_card_number_or_e_mail(
    system: dict[str, Any], system_stack: Stack, urls: dict[str, str]
) -> None:
    password = demo_password(system_stack)
    customer = browser_client(f"http://127.0.0.1:{system['ports']['bff']}")
    sign_in(customer, email=CUSTOMER, password=password)
    csrf = _csrf(customer)
    session = next(c.value for c in customer.cookies.jar if "session" in c.name)
    token = card_token(customer)
    placed = _place(customer, {"lines": [_donut(customer)], "payment_method": token}, csrf)
    assert placed.status_code == 201
    _wait(customer, placed.json()["id"], lambda o: o["status"] == "placed")
    needles = [password, CUSTOMER, "coffeeshop.local", csrf, session, token, "4242424242424242"]
    needles += ["Bearer", "access_token", "refresh_token"]
    for part, url in urls.items():
        text = httpx.get(url, timeout=10).text
        for needle in needles:
            assert needle not in text, f"{part}'s metrics hold {needle[:6]}…"


# ---- the customer's steps ----------------------------------------------------------------


def _csrf(client: httpx.Client) -> str:
    return str(client.get("/api/session").json()["csrf_token"])


def _donut(client: httpx.Client) -> dict[str, Any]:
    for category in client.get("/api/menu").json()["categories"]:
        for product in category["products"]:
            if product["name"] == "Donuts":
                return {
                    "product_id": product["id"],
                    "variation_id": product["variations"][0]["id"],
                    "quantity": 1,
                }
    raise AssertionError("no Donuts on the menu")


def _place(client: httpx.Client, body: dict[str, Any], csrf: str = "") -> httpx.Response:
    return client.post(
        "/api/orders",
        json=body,
        headers={"X-CSRF-Token": csrf or _csrf(client), "Idempotency-Key": str(uuid.uuid4())},
    )


def _wait(client: httpx.Client, order_id: int, check: Callable[[dict[str, Any]], Any]) -> None:
    deadline = time.monotonic() + 60
    while not check(order := client.get(f"/api/orders/{order_id}").json()):
        assert time.monotonic() < deadline, f"order {order_id} stuck: {order}"
        time.sleep(0.5)
