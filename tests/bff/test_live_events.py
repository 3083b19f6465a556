"""Live updates (`GET /api/events`): every event has an id, none is lost over a reconnect.

The BFF runs here as it does in `up` (gunicorn with uvicorn workers, ASGI) on the test
stack's port; the live consumer's `publish` is called directly with Order's envelopes,
on the real Redis. Sessions are made in Redis as a sign-in would leave them.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.contrib.sessions.backends.cache import SessionStore
from django.test import Client
from django_redis import get_redis_connection

from bff_site.gateway import live
from bff_site.sessions.services import TOKENS_KEY, USER_KEY
from devstack.base import HOST, Process
from devstack.stack import Stack
from shared.events import build_envelope
from shared.problems import TYPE_BASE

COOKIE = "__Host-coffeeshop-session"


@dataclass
class Frame:
    event: str
    id: str
    data: dict[str, Any]


@pytest.fixture(scope="module")
def bff(test_stack: Stack) -> Iterator[str]:
    """The BFF site, started the way `up` starts it."""
    test_stack.restart_site("bff")
    process = test_stack.process("bff")
    assert isinstance(process, Process)
    try:
        yield f"http://{HOST}:{test_stack.ports['bff']}"
    finally:
        process.stop(timeout=15)


def session_cookie(*, user_id: str, roles: list[str]) -> str:
    """A signed-in session in Redis, as /auth/callback leaves it; answers the cookie value."""
    session = Client().session
    session[USER_KEY] = {
        "id": user_id,
        "email": f"u{user_id}@coffeeshop.test",
        "name": f"User {user_id}",
        "roles": roles,
    }
    session[TOKENS_KEY] = {
        "access_token": "user-access-token",
        "refresh_token": "user-refresh-token",
        "id_token": "user-id-token",
        "expires_at": time.time() + 3600,
    }
    session.save()
    assert session.session_key is not None
    return session.session_key


def new_customer() -> tuple[str, str]:
    user_id = str(uuid.uuid4().int % 10**9)
    return user_id, session_cookie(user_id=user_id, roles=["customer"])


def status_event(*, order_id: int, customer: str, to: str) -> dict[str, Any]:
    """Publish Order's `order.status_changed` as the live consumer would; answers what a
    browser should receive for it."""
    envelope = build_envelope(
        event_type="order.status_changed",
        payload={"order_id": order_id, "customer_id": customer, "from": "placed", "to": to},
    )
    assert live.publish(envelope) is True
    return {
        "order_id": order_id,
        "status": to,
        "event": "order.status_changed",
        "at": envelope.occurred_at,
    }


class Stream:
    """One browser's event stream, read frame by frame."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.iter_lines()

    def next(self) -> Frame:
        """The next event (comments and the retry hint skipped)."""
        fields: dict[str, str] = {}
        for line in self.lines:
            if line == "":
                if "event" in fields:
                    return Frame(fields["event"], fields.get("id", ""), json.loads(fields["data"]))
                fields = {}
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
        raise AssertionError("the stream ended")


@contextmanager
def stream(
    bff: str, cookie: str, *, last_event_id: str | None = None, read_timeout: float = 20
) -> Iterator[Stream]:
    headers = {"Accept": "text/event-stream"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    with (
        httpx.Client(
            base_url=bff, cookies={COOKIE: cookie}, timeout=httpx.Timeout(5, read=read_timeout)
        ) as client,
        client.stream("GET", "/api/events", headers=headers) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        yield Stream(response)


def entry_id(value: str) -> tuple[int, int]:
    ms, seq = value.split("-")
    return int(ms), int(seq)


def test_event_published_while_no_stream_is_open_is_delivered_on_reconnect_with_last_event_id(
    bff: str,
) -> None:
    customer, cookie = new_customer()
    with stream(bff, cookie) as first:
        hello = first.next()
    assert hello.event == "ready"

    missed = status_event(order_id=4101, customer=customer, to="ready")

    with stream(bff, cookie, last_event_id=hello.id) as again:
        replayed = again.next()
        later = status_event(order_id=4101, customer=customer, to="collected")
        following = again.next()
    assert replayed.event == "order"
    assert replayed.data == missed
    assert entry_id(replayed.id) > entry_id(hello.id)
    assert following.data == later  # the missed one was sent once


def test_reconnect_after_the_missed_entries_were_trimmed_tells_the_browser_to_resync(
    bff: str,
) -> None:
    customer, cookie = new_customer()
    with stream(bff, cookie) as first:
        hello = first.next()
    for status in ("in_preparation", "ready", "collected"):
        status_event(order_id=4102, customer=customer, to=status)
    redis = get_redis_connection("default")
    key = live.user_stream(customer)
    redis.xtrim(key, maxlen=1, approximate=False)  # the bound has dropped what came after hello
    (newest_id, _), *_ = redis.xrevrange(key, "+", "-", count=1)
    newest = newest_id.decode()

    with stream(bff, cookie, last_event_id=hello.id) as again:
        resync = again.next()
        assert resync == Frame("resync", newest, {"resync": True})
        after = status_event(order_id=4102, customer=customer, to="ready")
        live_frame = again.next()
    assert live_frame.event == "order"
    assert live_frame.data == after
    assert entry_id(live_frame.id) > entry_id(newest)


def test_reconnect_after_the_stream_expired_tells_the_browser_to_resync(bff: str) -> None:
    customer, cookie = new_customer()
    with stream(bff, cookie) as first:
        hello = first.next()
    get_redis_connection("default").delete(live.user_stream(customer))

    with stream(bff, cookie, last_event_id=hello.id) as again:
        resync = again.next()
    assert resync.event == "resync"
    assert resync.data == {"resync": True}
    assert entry_id(resync.id) > entry_id(hello.id)


def test_event_ids_only_grow_live_and_across_a_replay(bff: str) -> None:
    customer, cookie = new_customer()
    statuses = ["placed", "in_preparation", "ready", "collected", "placed", "ready"]
    with stream(bff, cookie) as first:
        hello = first.next()
        sent = [status_event(order_id=4103, customer=customer, to=s) for s in statuses[:3]]
        live_frames = [first.next() for _ in range(3)]
    sent += [status_event(order_id=4103, customer=customer, to=s) for s in statuses[3:]]
    with stream(bff, cookie, last_event_id=live_frames[-1].id) as again:
        replayed = [again.next() for _ in range(3)]

    frames = live_frames + replayed
    assert [f.data for f in frames] == sent
    ids = [entry_id(f.id) for f in [hello, *frames]]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_a_customer_receives_only_their_own_orders_events_and_staff_receive_all(
    bff: str,
) -> None:
    alice, alice_cookie = new_customer()
    bob, bob_cookie = new_customer()
    staff_cookie = session_cookie(user_id="9001", roles=["barista"])
    with (
        stream(bff, alice_cookie) as alice_stream,
        stream(bff, bob_cookie) as bob_stream,
        stream(bff, staff_cookie) as staff_stream,
    ):
        for s in (alice_stream, bob_stream, staff_stream):
            assert s.next().event == "ready"
        # Each stream is in order: had Alice been sent Bob's event, it would come first.
        bobs = status_event(order_id=4201, customer=bob, to="ready")
        alices = status_event(order_id=4202, customer=alice, to="in_preparation")
        bobs_next = status_event(order_id=4201, customer=bob, to="collected")

        assert alice_stream.next().data == alices
        assert [bob_stream.next().data, bob_stream.next().data] == [bobs, bobs_next]
        assert [staff_stream.next().data for _ in range(3)] == [bobs, alices, bobs_next]


def test_a_customer_cannot_replay_another_customers_stream_by_its_ids(bff: str) -> None:
    alice, alice_cookie = new_customer()
    bob, bob_cookie = new_customer()
    with stream(bff, bob_cookie) as bobs_stream:
        bob_hello = bobs_stream.next()
    with stream(bff, alice_cookie) as alices_stream:
        alice_hello = alices_stream.next()
    status_event(order_id=4301, customer=bob, to="ready")

    # Bob's id in Alice's session reads Alice's stream, where it is older than anything.
    with stream(bff, alice_cookie, last_event_id=bob_hello.id) as s:
        assert s.next() == Frame("resync", alice_hello.id, {"resync": True})
        alices = status_event(order_id=4302, customer=alice, to="ready")
        assert s.next().data == alices


def test_a_last_event_id_that_is_no_event_id_is_refused_naming_it(bff: str) -> None:
    _, cookie = new_customer()
    response = httpx.get(
        f"{bff}/api/events",
        cookies={COOKIE: cookie},
        headers={"Last-Event-ID": "1700000000000-0; DROP"},
        timeout=5,
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": TYPE_BASE + "invalid-input",
        "title": "Invalid input",
        "status": 400,
        "detail": "Last-Event-ID is not an event id this stream sent.",
        "errors": {"Last-Event-ID": ["not an event id"]},
    }


def test_events_without_a_session_are_refused(bff: str) -> None:
    response = httpx.get(f"{bff}/api/events", timeout=5)
    assert response.status_code == 401
    assert response.json()["type"] == TYPE_BASE + "unauthenticated"


def test_stream_ends_at_the_next_heartbeat_once_the_session_is_gone(bff: str) -> None:
    _, cookie = new_customer()
    with stream(bff, cookie, read_timeout=settings.LIVE_HEARTBEAT_SECONDS + 10) as s:
        assert s.next().event == "ready"
        SessionStore(session_key=cookie).delete()
        with pytest.raises(AssertionError, match="the stream ended"):
            s.next()
