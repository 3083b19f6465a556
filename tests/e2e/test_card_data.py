"""Card data (issue 10): payment can't be skipped, and after real checkouts no full card
number is in any database, log, Kafka event, e-mail or error body.

Runs after the browser journeys (file order), so their checkouts in Chromium are
searched too. The checkouts here pay as the web client does (`tests/e2e/cards.py`):
the card goes to the sandbox provider, the BFF and Order see a `pm_…` token only.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient

from devstack.cli import demo_password
from devstack.servers.postgres import pg_bin
from devstack.servers.smtp import read_messages
from devstack.stack import SITES, Stack
from tests.e2e.browserless import browser_client, sign_in
from tests.e2e.cards import card_token

# The sandbox's test cards the e2e checkouts use, as typed and as digits.
CARDS = ("4242424242424242", "5555555555554444", "4000000000000002", "4111111111111111")


def _needles() -> list[bytes]:
    found = []
    for number in CARDS:
        found.append(number.encode())
        found.append(" ".join(number[i : i + 4] for i in range(0, 16, 4)).encode())
    return found


@pytest.fixture(scope="module")
def customer(system: dict[str, Any], system_stack: Stack) -> httpx.Client:
    client = browser_client(f"http://127.0.0.1:{system['ports']['bff']}")
    sign_in(client, email="customer@coffeeshop.local", password=demo_password(system_stack))
    return client


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


def _place(client: httpx.Client, body: dict[str, Any]) -> httpx.Response:
    return client.post(
        "/api/orders",
        json=body,
        headers={"X-CSRF-Token": _csrf(client), "Idempotency-Key": str(uuid.uuid4())},
    )


def _wait(client: httpx.Client, order_id: int, check: Any, what: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        order = client.get(f"/api/orders/{order_id}").json()
        if check(order):
            return dict(order)
        assert time.monotonic() < deadline, f"order {order_id} never {what}: {order}"
        time.sleep(0.5)


def test_a_placement_without_a_payment_method_is_400_naming_it_and_places_nothing(
    customer: httpx.Client,
) -> None:
    before = len(customer.get("/api/orders").json()["results"])

    response = _place(customer, {"lines": [_donut(customer)]})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["payment_method"]
    assert len(customer.get("/api/orders").json()["results"]) == before


def test_a_card_number_sent_to_the_shop_is_400_and_not_repeated(
    customer: httpx.Client,
) -> None:
    before = len(customer.get("/api/orders").json()["results"])

    response = _place(customer, {"lines": [_donut(customer)], "payment_method": CARDS[0]})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["payment_method"]
    assert CARDS[0] not in response.text
    assert len(customer.get("/api/orders").json()["results"]) == before


def _dump(stack: Stack, site: str) -> bytes:
    return subprocess.run(
        [
            str(pg_bin() / "pg_dump"),
            "--host",
            str(stack.postgres.sock),
            "--port",
            str(stack.postgres.port),
            "--username",
            "postgres",
            "--data-only",
            site,
        ],
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout


def _kafka_events(bootstrap: str) -> list[bytes]:
    topics = [
        name
        for name in AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10).topics
        if not name.startswith("__")
    ]
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"card-data-{uuid.uuid4().hex}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe(topics)
    events: list[bytes] = []
    quiet_since = time.monotonic()
    try:
        while time.monotonic() - quiet_since < 5:
            message = consumer.poll(0.5)
            if message is None or message.error():
                continue
            quiet_since = time.monotonic()
            events.append((message.key() or b"") + b" " + (message.value() or b""))
    finally:
        consumer.close()
    return events


def test_after_real_checkouts_no_card_number_is_in_any_database_log_event_or_email(
    customer: httpx.Client, system: dict[str, Any], system_stack: Stack
) -> None:
    line = _donut(customer)
    paid = _place(customer, {"lines": [line], "payment_method": card_token(customer)})
    declined = _place(customer, {"lines": [line], "payment_method": card_token(customer, CARDS[2])})
    refunded = _place(customer, {"lines": [line], "payment_method": card_token(customer, CARDS[1])})
    assert (paid.status_code, declined.status_code, refunded.status_code) == (201, 201, 201)
    _wait(customer, paid.json()["id"], lambda o: o["status"] == "placed", "paid")
    _wait(customer, declined.json()["id"], lambda o: o["status"] == "payment_failed", "declined")
    refunded_id = refunded.json()["id"]
    _wait(customer, refunded_id, lambda o: o["status"] == "placed", "paid")
    cancel = customer.post(
        f"/api/orders/{refunded_id}/cancel", headers={"X-CSRF-Token": _csrf(customer)}
    )
    assert cancel.status_code == 200, cancel.text
    _wait(customer, refunded_id, lambda o: o["refunded"], "refunded")
    # Error bodies a customer can provoke with a card: the shop's and the provider's.
    errors = [
        _place(customer, {"lines": [line], "payment_method": number}).content for number in CARDS
    ]
    config = customer.get("/api/config").json()["payments"]
    errors += [
        httpx.post(
            f"{config['provider_url']}/v1/payment_methods",
            json={"card": {"number": number, "exp_month": 1, "exp_year": 2001, "cvc": "1"}},
            headers={"Authorization": f"Bearer {config['publishable_key']}"},
        ).content
        for number in CARDS
    ]
    time.sleep(3)  # let the relays, consumers and mailer catch up

    state = Path(system["state"])
    places: dict[str, bytes] = {f"database {site}": _dump(system_stack, site) for site in SITES}
    places.update(
        {
            f"log {path.name}": path.read_bytes()
            for path in (state / "logs").rglob("*")
            if path.is_file()
        }
    )
    places.update(
        {
            f"provider journal {path.name}": path.read_bytes()
            for path in (state / "payments").rglob("*")
            if path.is_file()
        }
    )
    bootstrap = f"127.0.0.1:{system['ports']['kafka']}"
    places.update({f"kafka event {i}": e for i, e in enumerate(_kafka_events(bootstrap))})
    places.update(
        {f"e-mail {i}": m.as_bytes() for i, m in enumerate(read_messages(system_stack.maildir))}
    )
    places.update({f"error body {i}": body for i, body in enumerate(errors)})

    assert any(b"pm_" in data for name, data in places.items() if name == "database order")
    assert len([n for n in places if n.startswith("e-mail")]) > 0
    assert len([n for n in places if n.startswith("kafka event")]) > 0
    leaks = [name for name, data in places.items() for needle in _needles() if needle in data]
    assert leaks == []
