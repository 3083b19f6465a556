"""Order's `menu.changed` drops the BFF's cached menu and reaches every open stream (issue 11).

The real `manage.py run_live_updates` (part `bff-live`) consumes the real Kafka; the
BFF runs as in `up` (ASGI) and its cache and Streams are the real Redis. Events are
produced the way Order's relay does (topic `coffeeshop.order-events`, key `menu`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache

from bff_site.gateway.selectors import MENU_KEY
from devstack.base import REPO_ROOT
from shared.events import ORDER_EVENTS_TOPIC, build_envelope, kafka_producer
from tests.bff.test_live_events import bff, new_customer, session_cookie, status_event, stream

__all__ = ["bff"]  # the BFF under ASGI, started once for this module

pytestmark = pytest.mark.kafka

WITHIN = 2.0  # issue 11: a sold-out item leaves every open menu within 2 s
CACHED = {"currency": "GBP", "categories": [{"id": 1, "name": "Stale", "products": []}]}


@pytest.fixture(scope="module")
def producer() -> Any:
    return kafka_producer(settings.KAFKA_BOOTSTRAP_SERVERS)


def menu_changed(producer: Any, *, item: str, item_id: int) -> tuple[dict[str, Any], float]:
    """Send Order's `menu.changed`; answers what a browser should receive and when it went."""
    envelope = build_envelope(
        event_type="menu.changed",
        payload={"item": item, "id": item_id, "fields": ["is_available"]},
    )
    sent = time.monotonic()
    producer.produce(ORDER_EVENTS_TOPIC, key=b"menu", value=envelope.to_json())
    producer.flush(10)
    expected = {"event": "menu.changed", "item": item, "id": item_id, "at": envelope.occurred_at}
    return expected, sent


@pytest.fixture(scope="module")
def live_consumer(producer: Any) -> Iterator[None]:
    """`run_live_updates` running and past its partition assignment (it starts at the
    end of the topics): a probe event has dropped the cached menu."""
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="bff_site.config.settings.test")
    process = subprocess.Popen(
        [sys.executable, "bff_site/manage.py", "run_live_updates"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        cache.set(MENU_KEY, CACHED, 600)
        while cache.get(MENU_KEY) is not None:
            assert process.poll() is None, "run_live_updates exited"
            assert time.monotonic() < deadline, "the consumer never saw a menu event"
            menu_changed(producer, item="option", item_id=0)
            time.sleep(1)
        yield
    finally:
        process.terminate()
        process.wait(20)


def test_oat_milk_sold_out_drops_the_cached_menu_and_reaches_every_open_stream_within_2_s(
    bff: str, live_consumer: None, producer: Any
) -> None:
    customer, customer_cookie = new_customer()
    other_cookie = new_customer()[1]
    staff_cookie = session_cookie(user_id=str(uuid.uuid4().int % 10**9), roles=["barista"])
    cache.set(MENU_KEY, CACHED, 600)
    with (
        stream(bff, customer_cookie) as mine,
        stream(bff, other_cookie) as other,
        stream(bff, staff_cookie) as staff,
    ):
        hellos = [s.next() for s in (mine, other, staff)]
        assert [h.event for h in hellos] == ["ready"] * 3

        expected, sent = menu_changed(producer, item="option", item_id=7)
        frames = [s.next() for s in (mine, other, staff)]
        took = time.monotonic() - sent

        # The stream keeps counting its own entries: the menu note has no id.
        order = status_event(order_id=4401, customer=customer, to="ready")
        after = mine.next()
    print(f"menu.changed on Kafka -> last of 3 browser streams: {took * 1000:.0f} ms")
    assert [(f.event, f.id, f.data) for f in frames] == [("menu", "", expected)] * 3
    assert took < WITHIN
    assert cache.get(MENU_KEY) is None
    assert (after.event, after.data) == ("order", order)
    assert after.id > hellos[0].id


def test_a_menu_event_delivered_twice_reaches_a_stream_once(
    bff: str, live_consumer: None, producer: Any
) -> None:
    cookie = new_customer()[1]
    envelope = build_envelope(
        event_type="menu.changed", payload={"item": "product", "id": 3, "fields": ["base_price"]}
    )
    with stream(bff, cookie) as browser:
        assert browser.next().event == "ready"
        for _ in range(2):
            producer.produce(ORDER_EVENTS_TOPIC, key=b"menu", value=envelope.to_json())
        producer.flush(10)
        first = browser.next()
        # One partition, in order: a repeat of the first would come before this one.
        marker, _ = menu_changed(producer, item="variation", item_id=9)
        second = browser.next()
    assert (first.event, first.data["id"]) == ("menu", 3)
    assert (second.event, second.data) == ("menu", marker)
