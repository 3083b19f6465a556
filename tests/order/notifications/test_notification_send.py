"""Which events mail a customer, and what happens when Order does not know the customer."""

from __future__ import annotations

import pytest

from order_site.notifications.management.commands.run_order_consumers import HANDLERS
from order_site.outbox.models import ProcessedEvent
from order_site.users.models import Customer
from shared.events import build_envelope
from shared.http import DownstreamUnavailable

pytestmark = pytest.mark.django_db


def order_event(event_type: str, **payload: object):
    return build_envelope(
        event_type=event_type,
        payload={"order_id": 7, "customer_id": 31337, "total": 550, "currency": "GBP", **payload},
    )


@pytest.mark.parametrize(
    ("event_type", "extra", "subject"),
    [
        ("order.paid", {}, "Order 7: paid"),
        ("order.status_changed", {"to_status": "ready"}, "Order 7 is ready"),
        ("order.refunded", {}, "Order 7: refunded"),
        ("order.payment_failed", {"reason": "declined"}, "Order 7: payment failed"),
    ],
)
def test_customer_events_send_one_mail(mailoutbox, event_type, extra, subject):
    from datetime import UTC, datetime

    Customer.objects.create(
        id=31337, email="ada@example.com", source_event_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    _, on_event = HANDLERS["order-notifications"]
    event = order_event(event_type, **extra)

    on_event(event)
    on_event(event)

    assert [(m.subject, m.to) for m in mailoutbox] == [(subject, ["ada@example.com"])]


@pytest.mark.parametrize(
    ("event_type", "extra"),
    [
        ("order.placed", {}),
        ("order.status_changed", {"to_status": "in_preparation"}),
        ("order.cancelled", {}),
    ],
)
def test_other_events_send_nothing(mailoutbox, event_type, extra):
    _, on_event = HANDLERS["order-notifications"]

    on_event(order_event(event_type, **extra))

    assert mailoutbox == []


def test_unknown_customer_with_identity_down_is_retried_later(mailoutbox, settings):
    settings.IDENTITY_URL = "http://127.0.0.1:9"  # discard port: nothing listens
    _, on_event = HANDLERS["order-notifications"]
    event = order_event("order.paid")

    with pytest.raises(DownstreamUnavailable):
        on_event(event)

    assert mailoutbox == []
    assert ProcessedEvent.objects.filter(event_id=event.event_id).count() == 0
    assert Customer.objects.count() == 0
