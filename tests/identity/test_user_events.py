"""User events reach Kafka through the outbox relay, on the real broker."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
import requests
from confluent_kafka import Consumer
from django.conf import settings
from django.test import Client

from identity_site.accounts.models import User
from identity_site.accounts.services import user_delete, user_update
from identity_site.outbox.models import OutboxEvent
from identity_site.outbox.relay import outbox_claim_batch, outbox_relay_run
from shared.events import kafka_producer, parse_envelope, relay_once
from tests.identity.conftest import SERVICE_SECRET, WEB_SECRET
from tests.identity.factories.accounts import UserFactory
from tests.identity.test_oidc_flow import sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.kafka]

TOPIC = "coffeeshop.user-events"


def events_for(key: str, *, expect: int, settle: float = 2.0) -> list[Any]:
    """Every envelope on the topic with this key: wait for `expect`, then a little longer
    so that an extra (duplicate) message would be seen too."""
    consumer = Consumer(
        {
            "bootstrap.servers": settings.KAFKA_BOOTSTRAP_SERVERS,
            "group.id": f"identity-test-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([TOPIC])
    found: list[Any] = []
    deadline = time.monotonic() + 30
    settle_until: float | None = None
    try:
        while time.monotonic() < deadline:
            if settle_until is not None and time.monotonic() > settle_until:
                break
            message = consumer.poll(0.5)
            if message is None or message.error():
                continue
            if message.key() == key.encode():
                found.append(parse_envelope(message.value()))
                if len(found) >= expect and settle_until is None:
                    settle_until = time.monotonic() + settle
    finally:
        consumer.close()
    return found


def relay_until_sent(mark_sent: Any = None) -> None:
    """Run the relay in a thread until the outbox is empty, then stop it (a restart)."""
    stop = threading.Event()
    thread = threading.Thread(
        target=outbox_relay_run, kwargs={"should_stop": stop.is_set, "mark_sent": mark_sent}
    )
    thread.start()
    deadline = time.monotonic() + 30
    while OutboxEvent.objects.filter(sent_at__isnull=True).exists():
        assert time.monotonic() < deadline, "the relay sent nothing in 30 s"
        time.sleep(0.1)
    stop.set()
    thread.join(timeout=30)


def admin_creates(client: Client, email: str) -> User:
    boss = UserFactory(
        email=f"boss-{uuid.uuid4().hex[:8]}@coffeeshop.test", password=None, admin=True
    )
    client.force_login(boss)
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "email": email,
            "role": "barista",
            "password1": "espresso-shot-42",
            "password2": "espresso-shot-42",
        },
    )
    assert response.status_code == 302
    return User.objects.get(email=email)


def test_user_added_in_admin_is_one_user_created_event_on_kafka_across_a_relay_restart(
    client: Client,
) -> None:
    user = admin_creates(client, f"ben-{uuid.uuid4().hex[:8]}@coffeeshop.test")
    # First relay run publishes the backlog and stops; a second run (the restart) finds
    # nothing more to send.
    relay_until_sent()
    relay_until_sent()

    events = events_for(str(user.pk), expect=1)

    assert [e.event_type for e in events] == ["user.created"]
    event = events[0]
    row = OutboxEvent.objects.get(key=str(user.pk))
    assert event.event_id == str(row.event_id)
    assert event.schema_version == 1
    assert event.occurred_at.endswith("Z")
    assert event.payload == {
        "user_id": str(user.pk),
        "email": user.email,
        "full_name": "",
        "role": "barista",
        "roles": ["barista"],
        "is_active": True,
    }


def test_relay_dying_between_publish_and_mark_resends_with_the_same_event_id(
    client: Client,
) -> None:
    user = admin_creates(client, f"bea-{uuid.uuid4().hex[:8]}@coffeeshop.test")

    def die(ids: list[Any]) -> None:
        raise SystemExit("killed after Kafka acknowledged, before the mark committed")

    producer = kafka_producer(settings.KAFKA_BOOTSTRAP_SERVERS)
    with pytest.raises(SystemExit):
        relay_once(producer=producer, claim_batch=outbox_claim_batch, mark_sent=die)
    assert OutboxEvent.objects.filter(key=str(user.pk), sent_at__isnull=True).count() == 1
    relay_until_sent()  # the restarted relay

    events = events_for(str(user.pk), expect=2)

    # At least once on the topic: the acknowledged-but-unmarked event went out twice,
    # with one event_id, so a consumer deduplicating by event_id handles it once.
    assert [e.event_type for e in events] == ["user.created", "user.created"]
    assert len({e.event_id for e in events}) == 1
    assert OutboxEvent.objects.get(key=str(user.pk)).sent_at is not None


def test_role_change_and_delete_follow_creation_in_order_on_one_partition(
    client: Client,
) -> None:
    user = admin_creates(client, f"bo-{uuid.uuid4().hex[:8]}@coffeeshop.test")
    user_update(user=user, role="manager")
    user_delete(user=User.objects.get(pk=user.pk))
    relay_until_sent()

    events = events_for(str(user.pk), expect=3)

    assert [e.event_type for e in events] == ["user.created", "user.updated", "user.deleted"]
    assert events[1].payload["roles"] == ["manager", "barista"]


def test_a_second_relay_claims_nothing_while_the_first_holds_a_batch(client: Client) -> None:
    admin_creates(client, f"bu-{uuid.uuid4().hex[:8]}@coffeeshop.test")
    seen: list[int] = []
    holding = threading.Event()
    release = threading.Event()

    def first() -> None:
        with outbox_claim_batch() as batch:
            seen.append(len(batch))
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=first)
    thread.start()
    holding.wait(10)
    with outbox_claim_batch() as second:
        second_size = len(second)
    release.set()
    thread.join(10)

    assert seen == [2]  # the admin and the user the admin created
    assert second_size == 0


def test_a_barista_deactivated_in_the_admin_loses_every_token_and_kafka_says_so(
    client: Client, provider: str, web_client: Any, service_client: Any
) -> None:
    barista = UserFactory(
        email=f"bix-{uuid.uuid4().hex[:8]}@coffeeshop.test", full_name="Bix", barista=True
    )
    tokens = sign_in(provider, barista.email)["token"]
    introspect = f"{provider}/o/introspect/"
    service = ("order-service", SERVICE_SECRET)
    active = requests.post(
        introspect, data={"token": tokens["access_token"]}, auth=service, timeout=10
    )
    assert active.json()["roles"] == ["barista"]
    boss = UserFactory(
        email=f"boss-{uuid.uuid4().hex[:8]}@coffeeshop.test", password=None, admin=True
    )
    client.force_login(boss)

    # The admin's change form with "Active" unticked (an unticked box is not sent).
    changed = client.post(
        f"/admin/accounts/user/{barista.pk}/change/",
        {
            "email": barista.email,
            "full_name": "Bix",
            "role": "barista",
            "date_joined_0": "2026-12-04",
            "date_joined_1": "09:00:00",
        },
    )
    relay_until_sent()

    assert changed.status_code == 302, changed.content[:500]
    after = requests.post(
        introspect, data={"token": tokens["access_token"]}, auth=service, timeout=10
    )
    assert after.json() == {"active": False}
    refused = requests.post(
        f"{provider}/o/token/",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=("bff-web", WEB_SECRET),
        timeout=10,
    )
    assert refused.json()["error"] == "invalid_grant"
    events = events_for(str(barista.pk), expect=2)
    assert [e.event_type for e in events] == ["user.created", "user.updated"]
    assert events[1].payload == {
        "user_id": str(barista.pk),
        "email": barista.email,
        "full_name": "Bix",
        "role": "barista",
        "roles": ["barista"],
        "is_active": False,
    }
