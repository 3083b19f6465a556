"""Traces (issue 15): one order, placed and paid through the BFF, is one trace in Zipkin
across every service that worked on it; no secret is in a span or a log line; and a
trace backend that is down costs the sites nothing.

Everything is real: the `traces` part is Zipkin's own server, read back through its API
(`/api/v2/traces`, `/api/v2/trace/{id}`), as a person's browser reads it.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import redis

from devstack.cli import demo_password
from devstack.secret_files import SecretFiles
from devstack.sites import SITES
from devstack.stack import Stack
from devstack.workers import WORKERS
from tests.e2e.browserless import browser_client, sign_in
from tests.e2e.cards import card_token

CARD = "4242424242424242"
SERVICES = {"bff", "order", "identity", "order-relay", "order-worker", "order-consumers"}
# Every process of ours whose log a journey may reach (part names of `up`).
SITES_AND_WORKERS = (*SITES, *WORKERS)


@pytest.fixture(scope="module")
def bff(system: dict[str, Any]) -> str:
    return f"http://127.0.0.1:{system['ports']['bff']}"


@pytest.fixture(scope="module")
def zipkin(system: dict[str, Any]) -> str:
    return f"http://127.0.0.1:{system['ports']['traces']}"


def _csrf(client: httpx.Client) -> str:
    return str(client.get("/api/session").json()["csrf_token"])


def _donut(client: httpx.Client) -> dict[str, Any]:
    for category in client.get("/api/menu").json()["categories"]:
        for product in category["products"]:
            if product["name"] == "Donuts":
                variation = product["variations"][0]["id"]
                return {"product_id": product["id"], "variation_id": variation, "quantity": 1}
    raise AssertionError("no Donuts on the menu")


def _place_and_wait_paid(client: httpx.Client, *, number: str = CARD) -> dict[str, Any]:
    placed = client.post(
        "/api/orders",
        json={"lines": [_donut(client)], "payment_method": card_token(client, number)},
        headers={"X-CSRF-Token": _csrf(client), "Idempotency-Key": str(uuid.uuid4())},
    )
    assert placed.status_code == 201, placed.text
    order = dict(placed.json())
    deadline = time.monotonic() + 60
    while client.get(f"/api/orders/{order['id']}").json()["status"] != "placed":
        assert time.monotonic() < deadline, "the order was not paid within 60 s"
        time.sleep(0.5)
    return order


def _forget_service_tokens(stack: Stack) -> None:
    """Make the next call to Order fetch a new client token: Identity then issues it in
    this request, and Order introspects a token it has never seen (both caches would
    otherwise keep Identity out of the trace)."""
    client = redis.Redis(
        host="127.0.0.1",
        port=stack.ports["redis"],
        password=SecretFiles(stack.state).redis_password(),
    )
    for key in client.scan_iter(match="bff:*:order-token:*"):
        client.delete(key)


def _trace_of_order(zipkin: str, order_id: int) -> list[str]:
    answer = httpx.get(
        f"{zipkin}/api/v2/traces",
        params={
            "annotationQuery": f"coffeeshop.order_id={order_id}",
            "lookback": 3_600_000,
            "limit": 100,
        },
        timeout=10,
    )
    answer.raise_for_status()
    return sorted({span["traceId"] for trace in answer.json() for span in trace})


def _eventually(check: Callable[[], Any], *, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        time.sleep(1)


def _service(span: dict[str, Any]) -> str:
    return str(span.get("localEndpoint", {}).get("serviceName", ""))


def _serves(span: dict[str, Any], service: str, name: str) -> bool:
    """Whether `span` is `service`'s span of a request it served (Zipkin lowercases names)."""
    return _service(span) == service and span.get("kind") == "SERVER" and span["name"] == name


def _ancestors(span: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    parent = span.get("parentId")
    while parent and parent in by_id:
        found.append(by_id[parent])
        parent = by_id[parent].get("parentId")
    return found


def _one(spans: list[dict[str, Any]], what: str, test: Callable[[dict[str, Any]], bool]) -> Any:
    matching = [span for span in spans if test(span)]
    assert matching, f"no span for {what} in {[(s['name'], _service(s)) for s in spans]}"
    return matching[0]


def test_a_paid_order_is_one_trace_from_the_bff_to_the_receipt_email(
    bff: str, zipkin: str, system_stack: Stack
) -> None:
    customer = browser_client(bff)
    sign_in(customer, email="customer@coffeeshop.local", password=demo_password(system_stack))
    _forget_service_tokens(system_stack)

    order = _place_and_wait_paid(customer)

    def whole_trace() -> list[dict[str, Any]]:
        found = _trace_of_order(zipkin, order["id"])  # exported within seconds
        assert len(found) == 1, found
        spans = httpx.get(f"{zipkin}/api/v2/trace/{found[0]}", timeout=10).json()
        assert {_service(span) for span in spans} >= SERVICES, {_service(s) for s in spans}
        # The BFF's request span ends after its answer and may reach Zipkin in a later
        # batch than the spans under it: wait for the root too.
        assert any(_serves(span, "bff", "post api/orders") for span in spans)
        # So may the spans between them (in Dapr mode, both sidecars' own): wait until
        # Order's request links up to the BFF's, asserted below.
        by_id = {span["id"]: span for span in spans}
        placements = [
            span
            for span in spans
            if _serves(span, "order", "post api/orders/")
            and any(_serves(a, "bff", "post api/orders") for a in _ancestors(span, by_id))
        ]
        assert placements
        # And Identity's introspection under Order's request (its own batch, too).
        assert any(
            placements[0] in _ancestors(span, by_id)
            for span in spans
            if _service(span) == "identity" and span.get("kind") == "SERVER"
        )
        assert any(
            span.get("tags", {}).get("messaging.consumer.group.name") == "order-notifications"
            and span.get("tags", {}).get("coffeeshop.event_type") == "order.paid"
            for span in spans
        )
        return list(spans)

    spans = _eventually(whole_trace, timeout=60, what="the order's trace")
    by_id = {span["id"]: span for span in spans}

    def tags(span: dict[str, Any]) -> dict[str, str]:
        return dict(span.get("tags", {}))

    # The BFF's request is the root; Order's request is under it, Identity under either.
    request = _one(
        spans,
        "the BFF's request",
        lambda s: (
            _service(s) == "bff" and s.get("kind") == "SERVER" and s["name"] == "post api/orders"
        ),
    )
    assert "parentId" not in request
    assert tags(request)["coffeeshop.order_id"] == str(order["id"])
    placement = _one(
        spans,
        "Order's placement",
        lambda s: (
            _service(s) == "order" and s.get("kind") == "SERVER" and s["name"] == "post api/orders/"
        ),
    )
    assert request in _ancestors(placement, by_id)
    assert tags(placement)["coffeeshop.order_id"] == str(order["id"])
    identity = [s for s in spans if _service(s) == "identity" and s.get("kind") == "SERVER"]
    assert identity
    assert all(request in _ancestors(span, by_id) for span in identity)
    assert any(placement in _ancestors(span, by_id) for span in identity), "no introspection"

    # The relay publishes the order's events in the trace: `order.placed` under the
    # placement; it also hands the charge to Celery from the placement's payment.
    published = [s for s in spans if _service(s) == "order-relay" and s.get("kind") == "PRODUCER"]
    placed_event = _one(
        published,
        "order.placed published",
        lambda s: placement in _ancestors(s, by_id) and "coffeeshop.event_id" in tags(s),
    )
    assert tags(placed_event)["coffeeshop.order_id"] == str(order["id"])
    dispatch = _one(spans, "the charge's dispatch", lambda s: s["name"] == "payments dispatch")
    assert _service(dispatch) == "order-relay"
    assert placement in _ancestors(dispatch, by_id)

    # The Celery worker charges under the dispatch, and the order.paid it writes is
    # published under the charge and mailed by the notification consumer under that.
    charge = _one(spans, "the charge", lambda s: s["name"] == "payment charge")
    assert _service(charge) == "order-worker"
    assert dispatch in _ancestors(charge, by_id)
    assert tags(charge)["coffeeshop.order_id"] == str(order["id"])
    mailed = _one(
        spans,
        "the receipt e-mail",
        lambda s: (
            tags(s).get("messaging.consumer.group.name") == "order-notifications"
            and tags(s).get("coffeeshop.event_type") == "order.paid"
        ),
    )
    assert _service(mailed) == "order-consumers"
    chain = _ancestors(mailed, by_id)
    assert charge in chain
    assert any(s.get("kind") == "PRODUCER" and _service(s) == "order-relay" for s in chain), (
        "order.paid was not published in the trace"
    )
    assert tags(mailed)["coffeeshop.order_id"] == str(order["id"])
    assert tags(mailed)["coffeeshop.event_id"]

    # One trace: every span naming the order is in it.
    assert _trace_of_order(zipkin, order["id"]) == [request["traceId"]]

    # The logs lead to it too: the worker's line about the charge carries its ids.
    trace_id = request["traceId"]
    records = [
        record
        for part in ("bff", "order", "worker", "order-consumers")
        for record in _json_lines(system_stack, part)
        if record.get("trace_id") == trace_id
    ]
    charged = [r for r in records if r["logger"] == "coffeeshop.payments"]
    assert charged, "the charge's log line does not carry the trace id"
    assert charged[0]["span_id"] in by_id


def _json_lines(stack: Stack, part: str) -> list[dict[str, Any]]:
    proc = stack.process(part)
    assert proc is not None
    found = []
    for line in proc.logfile.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                found.append(json.loads(line))
            except ValueError:
                continue
    return found


SESSION_TOKENS = """
from importlib import import_module
from django.conf import settings
store = import_module(settings.SESSION_ENGINE).SessionStore(session_key={key!r})
tokens = store.load().get("oidc_tokens") or {{}}
print("TOKENS", tokens.get("access_token") or "-", tokens.get("refresh_token") or "-")
"""


def _session_tokens(stack: Stack, client: httpx.Client) -> tuple[str, str]:
    """The access and refresh tokens the BFF keeps in this browser's session."""
    key = client.cookies.get("__Host-coffeeshop-session")
    assert key
    out = stack.manage("bff", "shell", "-c", SESSION_TOKENS.format(key=key))
    line = next(line for line in out.splitlines() if line.startswith("TOKENS "))
    access, refresh = line.split()[1:]
    assert access != "-"
    assert refresh != "-"
    return access, refresh


def _all_spans(zipkin: str) -> str:
    """Every span Zipkin holds from the last hour, as the text of its API's answer."""
    answer = httpx.get(
        f"{zipkin}/api/v2/traces", params={"lookback": 3_600_000, "limit": 100_000}, timeout=60
    )
    answer.raise_for_status()
    return answer.text


def test_no_token_card_number_email_or_password_in_spans_or_logs(
    bff: str, zipkin: str, system_stack: Stack
) -> None:
    password = demo_password(system_stack)
    email = "customer@coffeeshop.local"
    customer = browser_client(bff)
    sign_in(customer, email=email, password=password)
    access, refresh = _session_tokens(system_stack, customer)
    order = _place_and_wait_paid(customer, number=CARD)
    customer.get(f"/api/orders/{order['id']}")
    # The journey's trace is in Zipkin (so the search below is not of nothing).
    assert _eventually(
        lambda: _assert_true(len(_trace_of_order(zipkin, order["id"])) == 1),
        timeout=60,
        what="the order's trace",
    )

    needles = {
        "access token": access,
        "refresh token": refresh,
        "card number": CARD,
        "card number as typed": " ".join(CARD[i : i + 4] for i in range(0, 16, 4)),
        "password": password,
    }
    spans = _all_spans(zipkin)
    assert '"coffeeshop.order_id"' in spans
    for what, needle in {**needles, "e-mail address": email}.items():
        assert needle not in spans, f"a span holds the {what}"
    for part in (*SITES_AND_WORKERS,):
        proc = system_stack.process(part)
        assert proc is not None
        text = proc.logfile.read_text(errors="replace")
        for what, needle in needles.items():
            assert needle not in text, f"the {part} log holds the {what}"


def _assert_true(value: bool) -> bool:
    assert value
    return True


def test_a_trace_backend_down_stops_neither_serving_nor_readiness(
    bff: str, system: dict[str, Any], system_stack: Stack
) -> None:
    customer = browser_client(bff)
    sign_in(customer, email="customer@coffeeshop.local", password=demo_password(system_stack))
    logs = {part: system_stack.process(part) for part in ("bff", "order", "order-relay")}
    offsets = {part: proc.logfile.stat().st_size for part, proc in logs.items() if proc}
    system_stack.traces.stop()
    try:
        for _ in range(3):  # several batches of spans, each of them dropped
            _place_and_wait_paid(customer)
            time.sleep(3)  # longer than the export delay (shared/telemetry/setup.py)
        for site in ("bff", "order", "identity"):
            ready = httpx.get(f"http://127.0.0.1:{system['ports'][site]}/readyz", timeout=10)
            assert ready.status_code == 200, ready.text
        for part, proc in logs.items():
            assert proc is not None
            with proc.logfile.open("rb") as fh:
                fh.seek(offsets[part])
                lines = fh.read().decode(errors="replace").splitlines()
            warnings = [json.loads(line) for line in lines if "cannot be reached" in line]
            assert warnings, f"{part} said nothing of the trace backend"
            pids = [w["message"].split("(pid ")[1].split(")")[0] for w in warnings]
            assert len(pids) == len(set(pids)), f"{part} warned more than once per process"
            assert all(w["level"] == "WARNING" for w in warnings)
    finally:
        system_stack.traces.start()
