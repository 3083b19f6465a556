"""The outbox relay against the real broker: every event delivered, in order per order,
even when Kafka is down while orders are placed and advanced (DESIGN.md "Events")."""

from __future__ import annotations

from collections import defaultdict
from functools import partial
from typing import Any

import pytest
from rest_framework.test import APIClient

from order_site.orders import services
from order_site.outbox.models import OutboxEvent
from order_site.outbox.services import outbox_claim_batch
from order_site.users.principals import Principal
from shared.events import ORDER_EVENTS_TOPIC
from tests.order.conftest import BARISTA_ID, CUSTOMER_ID, donut_line
from tests.order.factories.menu import VariationFactory
from tests.order.outbox.kafka_helpers import read_topic, running_relay, wait_until_all_sent

CUSTOMER = Principal(CUSTOMER_ID, frozenset({"customer"}))
BARISTA = Principal(BARISTA_ID, frozenset({"barista"}))


def donut_on_the_menu() -> None:
    """The one item these orders buy (what `donut_line` names); its price is no matter here."""
    VariationFactory(product__name="Donuts", name="Boston Cream")


def place_and_work(key: str, steps: tuple[str, ...]) -> int:
    client = APIClient()
    client.force_authenticate(user=CUSTOMER)
    response = client.post(
        "/api/orders/",
        {"payment_method": "pm_card_visa", "lines": [donut_line(1)]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    order_id: int = response.json()["id"]
    services.order_mark_paid(order_id=order_id, payment_reference=f"pi_{key}")
    for step in steps:
        services.order_advance(order_id=order_id, to_status=step, actor=BARISTA)
    return order_id


def published_in_order(expected: dict[str, list[str]]) -> dict[str, list[str]]:
    """Per key, the event ids as Kafka holds them (first delivery of each)."""
    wanted = {event_id for ids in expected.values() for event_id in ids}
    per_key: dict[str, list[str]] = defaultdict(list)
    for key, envelope in read_topic(ORDER_EVENTS_TOPIC, wanted):
        if envelope.event_id not in per_key[key]:
            per_key[key].append(envelope.event_id)
    return dict(per_key)


def outbox_per_key() -> dict[str, list[str]]:
    per_key: dict[str, list[str]] = defaultdict(list)
    for row in OutboxEvent.objects.order_by("id"):
        per_key[row.key].append(str(row.event_id))
    return dict(per_key)


@pytest.mark.kafka
@pytest.mark.django_db(transaction=True)
def test_relay_publishes_every_event_with_the_order_id_as_key():
    donut_on_the_menu()
    order_id = place_and_work("r1", ("in_preparation", "ready"))

    with running_relay():
        assert wait_until_all_sent(timeout=60) == 0

    expected = outbox_per_key()
    assert list(expected) == [str(order_id)]
    assert published_in_order(expected) == expected
    types = [row.event_type for row in OutboxEvent.objects.order_by("id")]
    assert types == ["order.placed", "order.paid", "order.status_changed", "order.status_changed"]


@pytest.mark.kafka
@pytest.mark.django_db(transaction=True)
def test_events_written_while_kafka_is_down_are_all_delivered_in_order_after_it_returns(
    test_stack: Any,
):
    donut_on_the_menu()
    orders_before = [place_and_work(f"before-{i}", ("in_preparation",)) for i in range(2)]
    with running_relay(**{"message.timeout.ms": 3000}):
        assert wait_until_all_sent(timeout=60) == 0
        test_stack.kafka.stop()
        try:
            during = [place_and_work(f"down-{i}", ("in_preparation", "ready")) for i in range(4)]
            # Nothing can be delivered: the relay keeps them unsent and retries.
            assert wait_until_all_sent(timeout=5) == 4 * 4
        finally:
            test_stack.kafka.start()
        assert wait_until_all_sent(timeout=120) == 0

    expected = outbox_per_key()
    assert sorted(expected) == sorted(str(o) for o in orders_before + during)
    assert published_in_order(expected) == expected


@pytest.mark.kafka
@pytest.mark.django_db(transaction=True)
def test_two_relays_publish_each_event_once_and_in_order_per_order():
    donut_on_the_menu()
    for i in range(8):
        place_and_work(f"pair-{i}", ("in_preparation", "ready"))
    small_batches = partial(outbox_claim_batch, 3)

    with running_relay(claim_batch=small_batches), running_relay(claim_batch=small_batches):
        assert wait_until_all_sent(timeout=60) == 0

    expected = outbox_per_key()
    wanted = {event_id for ids in expected.values() for event_id in ids}
    delivered = read_topic(ORDER_EVENTS_TOPIC, wanted)
    assert sorted(e.event_id for _, e in delivered) == sorted(wanted)
    assert published_in_order(expected) == expected
