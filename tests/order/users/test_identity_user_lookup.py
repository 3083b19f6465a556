"""Order asks a real Identity for a user it has not heard of, once a minute at most
when Identity has no such user, and mails the user as soon as their user event arrives."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from django.core.cache import cache

from order_site.notifications.management.commands.run_order_consumers import HANDLERS
from order_site.outbox.models import ProcessedEvent
from order_site.users.identity_client import (
    MISSING_USER_TTL_SECONDS,
    identity_user_contact,
    missing_user_cache_key,
)
from order_site.users.models import Customer
from shared.events import build_envelope
from shared.http import DownstreamUnavailable
from tests.order.users.conftest import identity_access_log

pytestmark = pytest.mark.django_db


def unknown_user_id() -> int:
    """An id Identity has never handed out (its users are numbered from 1)."""
    return 700000 + uuid.uuid4().int % 100000


def refunded(user_id: int, order_id: int):
    # A mail whose content comes from the event alone (a paid mail reads the order).
    return build_envelope(
        event_type="order.refunded",
        payload={"order_id": order_id, "customer_id": user_id, "total": 250, "currency": "GBP"},
    )


def lookups_of(test_stack: Any, user_id: int) -> int:
    """How many `GET /api/users/<user_id>` Identity has answered (its access log)."""
    log = identity_access_log(test_stack)
    request = f'"GET /api/users/{user_id} '
    return sum(request in line for line in log.read_text().splitlines()) if log.exists() else 0


def wait_for_lookups(test_stack: Any, user_id: int, at_least: int) -> None:
    # Gunicorn writes the access line just after the response: give it a moment.
    deadline = time.monotonic() + 5
    while lookups_of(test_stack, user_id) < at_least and time.monotonic() < deadline:
        time.sleep(0.05)


def test_unknown_user_is_looked_up_once_within_the_ttl_and_mailed_once_their_event_arrives(
    identity, test_stack, mailoutbox
):
    user_id = unknown_user_id()
    _, notify = HANDLERS["order-notifications"]
    _, apply_user_event = HANDLERS["order-users"]

    notify(refunded(user_id, 1))
    wait_for_lookups(test_stack, user_id, at_least=1)
    notify(refunded(user_id, 2))
    remembered_for = cache.ttl(missing_user_cache_key(user_id))
    apply_user_event(
        build_envelope(
            event_type="user.created",
            payload={"user_id": str(user_id), "email": "late@example.com", "full_name": "Late"},
        )
    )
    forgotten = cache.get(missing_user_cache_key(user_id)) is None
    notify(refunded(user_id, 3))

    assert lookups_of(test_stack, user_id) == 1
    assert 0 < remembered_for <= MISSING_USER_TTL_SECONDS
    assert forgotten
    assert [(m.subject, m.to) for m in mailoutbox] == [("Order #3: refunded", ["late@example.com"])]
    # The two events before the user was known were handled (nobody to mail), not retried.
    assert ProcessedEvent.objects.filter(consumer="order-notifications").count() == 3


def test_known_user_is_found_in_identity_and_kept_in_the_copy(identity, test_stack, mailoutbox):
    address = f"known-{uuid.uuid4().hex[:8]}@example.com"
    user_id = int(
        test_stack.manage(
            "identity",
            "shell",
            "-c",
            "from identity_site.accounts.services import user_create; "
            f"print(user_create(email={address!r}, password=None, full_name='Known').pk)",
        ).split()[-1]
    )
    _, notify = HANDLERS["order-notifications"]

    notify(refunded(user_id, 4))
    notify(refunded(user_id, 5))

    assert [(m.subject, m.to) for m in mailoutbox] == [
        ("Order #4: refunded", [address]),
        ("Order #5: refunded", [address]),
    ]
    assert Customer.objects.get(id=user_id).email == address
    assert cache.get(missing_user_cache_key(user_id)) is None
    wait_for_lookups(test_stack, user_id, at_least=1)
    assert lookups_of(test_stack, user_id) == 1  # the second event found the copy


def test_identity_down_is_never_remembered_as_no_such_user(settings):
    settings.IDENTITY_URL = "http://127.0.0.1:9"  # discard port: nothing listens
    user_id = unknown_user_id()

    with pytest.raises(DownstreamUnavailable):
        identity_user_contact(user_id=user_id)
    with pytest.raises(DownstreamUnavailable):
        identity_user_contact(user_id=user_id)

    assert cache.get(missing_user_cache_key(user_id)) is None
