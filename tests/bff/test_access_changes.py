"""Identity's user events end or update BFF sessions within seconds (issue 10).

The real `manage.py run_live_updates` (part `bff-live`) consumes the real Kafka; the
sessions live in the real Redis. Events are produced the way Identity's relay does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import import_module
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from bff_site.sessions import people, services
from devstack.base import REPO_ROOT
from shared.events import USER_EVENTS_TOPIC, build_envelope, kafka_producer

pytestmark = pytest.mark.kafka

WITHIN = 5.0


@pytest.fixture(scope="module")
def producer() -> Any:
    return kafka_producer(settings.KAFKA_BOOTSTRAP_SERVERS)


def _send(producer: Any, event_type: str, payload: dict[str, Any]) -> None:
    envelope = build_envelope(event_type=event_type, payload=payload)
    producer.produce(USER_EVENTS_TOPIC, key=payload["user_id"].encode(), value=envelope.to_json())
    producer.flush(10)


@pytest.fixture(scope="module")
def live_consumer(producer: Any) -> Iterator[None]:
    """`run_live_updates` running, and past its partition assignment (it starts at the
    end of the topics, so events sent before that would be missed)."""
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="bff_site.config.settings.test")
    process = subprocess.Popen(
        [sys.executable, "bff_site/manage.py", "run_live_updates"],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        probe = f"probe-{uuid.uuid4().hex}"
        deadline = time.monotonic() + 60
        while people.person_news(user_id=probe) is None:
            assert process.poll() is None, "run_live_updates exited"
            assert time.monotonic() < deadline, "the consumer never saw a user event"
            _send(producer, "user.updated", _payload(probe, "customer"))
            time.sleep(1)
        yield
    finally:
        process.terminate()
        process.wait(20)


def _payload(user_id: str, role: str, *, active: bool = True) -> dict[str, Any]:
    roles = {"customer": ["customer"], "barista": ["barista"], "manager": ["manager", "barista"]}
    return {
        "user_id": user_id,
        "email": f"{user_id}@coffeeshop.local",
        "full_name": "Sam Staff",
        "role": role,
        "roles": roles[role],
        "is_active": active,
    }


def _signed_in(user_id: str, roles: list[str]) -> Client:
    """A browser with a BFF session as `login_complete` leaves it (tokens far from expiry)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[services.TOKENS_KEY] = {
        "access_token": "unused",
        "refresh_token": "unused",
        "id_token": "unused",
        "expires_at": time.time() + 3600,
    }
    store[services.USER_KEY] = {
        "id": user_id,
        "email": f"{user_id}@coffeeshop.local",
        "name": "Sam Staff",
        "roles": roles,
    }
    store[services.NEWS_SEQ_KEY] = people.news_seq()
    store.create()
    people.session_index_add(user_id=user_id, session_key=str(store.session_key))
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = str(store.session_key)
    return client


def _until(check: Any) -> float:
    began = time.monotonic()
    while not check():
        assert time.monotonic() - began < WITHIN, "not within 5 s"
        time.sleep(0.2)
    return time.monotonic() - began


def test_a_deactivated_barista_is_signed_out_of_every_session_within_5_seconds(
    live_consumer: None, producer: Any
) -> None:
    barista = str(uuid.uuid4())
    phone, till = _signed_in(barista, ["barista"]), _signed_in(barista, ["barista"])
    other = _signed_in(str(uuid.uuid4()), ["barista"])
    assert phone.get("/api/session").json()["authenticated"] is True
    assert len(people.person_sessions(user_id=barista)) == 2

    _send(producer, "user.updated", _payload(barista, "barista", active=False))

    _until(lambda: till.get("/api/session").json()["authenticated"] is False)
    assert till.get("/api/staff/queue").status_code == 401
    assert phone.get("/api/staff/queue").status_code == 401
    assert phone.get("/api/session").json()["user"] is None
    assert people.person_sessions(user_id=barista) == set()
    assert other.get("/api/session").json()["authenticated"] is True


def test_a_demoted_manager_gets_the_new_roles_and_loses_staff_endpoints_within_5_seconds(
    live_consumer: None, producer: Any
) -> None:
    manager = str(uuid.uuid4())
    browser = _signed_in(manager, ["manager", "barista"])
    assert browser.get("/api/session").json()["admin_url"] is not None

    _send(producer, "user.updated", _payload(manager, "customer"))

    _until(lambda: browser.get("/api/session").json()["user"]["roles"] == ["customer"])
    summary = browser.get("/api/session").json()
    assert summary["authenticated"] is True
    assert summary["admin_url"] is None
    queue = browser.get("/api/staff/queue")
    assert queue.status_code == 403
    assert queue.json()["title"] == "Forbidden"


def test_a_deleted_person_is_signed_out_within_5_seconds(
    live_consumer: None, producer: Any
) -> None:
    person = str(uuid.uuid4())
    browser = _signed_in(person, ["customer"])

    _send(producer, "user.deleted", {"user_id": person})

    _until(lambda: browser.get("/api/orders").status_code == 401)


def test_an_older_event_delivered_again_does_not_undo_a_newer_one() -> None:
    person = str(uuid.uuid4())
    newer = build_envelope(event_type="user.updated", payload=_payload(person, "customer"))
    older = build_envelope(
        event_type="user.updated",
        payload=_payload(person, "manager"),
        occurred_at=datetime(2020, 1, 1, tzinfo=UTC),
    )

    assert people.user_event_apply(newer) is True
    assert people.user_event_apply(older) is False
    news = people.person_news(user_id=person)
    assert news is not None
    assert news.roles == ("customer",)
