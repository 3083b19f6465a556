"""Order's copy of users follows Identity's user events, once each, newest wins."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from order_site.notifications.management.commands.run_order_consumers import HANDLERS
from order_site.outbox.models import ProcessedEvent
from order_site.users.models import Customer
from shared.events import build_envelope

pytestmark = pytest.mark.django_db


def user_event(event_type: str, when: datetime, **payload: object):
    return build_envelope(
        event_type=event_type, payload={"user_id": "42", **payload}, occurred_at=when
    )


def test_user_events_create_update_and_delete_the_copy():
    _, on_event = HANDLERS["order-users"]
    t1, t2, t3 = (datetime(2026, 1, 1, h, tzinfo=UTC) for h in (1, 2, 3))

    on_event(user_event("user.created", t1, email="a@x.test", full_name="Ann", roles=["customer"]))
    on_event(user_event("user.updated", t2, email="b@x.test", full_name="Ann B", roles=["barista"]))
    updated = Customer.objects.get(id=42)
    on_event(user_event("user.deleted", t3))

    assert (updated.email, updated.name, updated.roles, updated.is_active) == (
        "b@x.test",
        "Ann B",
        ["barista"],
        True,
    )
    deleted = Customer.objects.get(id=42)
    assert (deleted.email, deleted.is_active) == ("", False)


def test_a_redelivered_event_is_applied_once():
    _, on_event = HANDLERS["order-users"]
    created = user_event(
        "user.created", datetime(2026, 1, 1, tzinfo=UTC), email="a@x.test", full_name="Ann"
    )
    on_event(created)
    Customer.objects.filter(id=42).update(email="changed-meanwhile@x.test")

    on_event(created)

    assert Customer.objects.get(id=42).email == "changed-meanwhile@x.test"
    assert ProcessedEvent.objects.filter(event_id=created.event_id).count() == 1


def test_an_older_event_never_overwrites_a_newer_copy():
    _, on_event = HANDLERS["order-users"]
    on_event(user_event("user.updated", datetime(2026, 1, 2, tzinfo=UTC), email="new@x.test"))

    on_event(user_event("user.created", datetime(2026, 1, 1, tzinfo=UTC), email="old@x.test"))

    assert Customer.objects.get(id=42).email == "new@x.test"


def test_user_event_without_a_user_id_is_unusable_and_changes_nothing():
    from shared.events import InvalidEvent

    _, on_event = HANDLERS["order-users"]
    event = build_envelope(event_type="user.created", payload={"email": "a@x.test"})

    with pytest.raises(InvalidEvent, match="without a user_id"):
        on_event(event)

    assert Customer.objects.count() == 0
    assert ProcessedEvent.objects.count() == 0
