"""Which events mail a customer, and what happens when Order does not know the customer."""

from __future__ import annotations

import contextlib

import pytest
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connection

from order_site.notifications.management.commands.run_order_consumers import HANDLERS
from order_site.outbox.models import ProcessedEvent
from order_site.users.identity_client import missing_user_cache_key
from order_site.users.models import Customer
from shared.events import InvalidEvent, build_envelope
from shared.http import DownstreamUnavailable
from tests.order.factories.users import CustomerFactory

pytestmark = pytest.mark.django_db


def order_event(event_type: str, **payload: object):
    return build_envelope(
        event_type=event_type,
        payload={"order_id": 7, "customer_id": 31337, "total": 550, "currency": "GBP", **payload},
    )


def known_customer() -> Customer:
    return CustomerFactory(id=31337, email="ada@example.com")


@pytest.mark.parametrize(
    ("event_type", "extra", "subject"),
    [
        # order.paid mails a receipt read from the order: tests/order/notifications/test_receipt.py
        ("order.status_changed", {"to_status": "ready"}, "Order #7 is ready"),
        ("order.refunded", {}, "Order #7: refunded"),
        (
            "order.status_changed",
            {"to_status": "rejected", "reason": "out of oat milk"},
            "Order #7: rejected and refunded",
        ),
        ("order.payment_failed", {"reason": "declined"}, "Order #7: payment failed"),
    ],
)
def test_customer_events_send_one_mail(mailoutbox, event_type, extra, subject):
    known_customer()
    _, on_event = HANDLERS["order-notifications"]
    event = order_event(event_type, **extra)

    on_event(event)
    on_event(event)

    assert [(m.subject, m.to) for m in mailoutbox] == [(subject, ["ada@example.com"])]
    assert ProcessedEvent.objects.filter(event_id=event.event_id).count() == 1


@pytest.mark.parametrize(
    ("event_type", "extra"),
    [
        ("order.placed", {}),
        ("order.status_changed", {"to_status": "in_preparation"}),
        ("order.cancelled", {}),
    ],
)
def test_other_events_send_nothing_and_never_touch_the_database(
    mailoutbox, django_assert_num_queries, event_type, extra
):
    _, on_event = HANDLERS["order-notifications"]

    with django_assert_num_queries(0):
        on_event(order_event(event_type, **extra))

    assert mailoutbox == []
    assert ProcessedEvent.objects.count() == 0


def test_event_with_a_bad_total_is_unusable_and_writes_nothing(django_assert_num_queries):
    _, on_event = HANDLERS["order-notifications"]

    with django_assert_num_queries(0), pytest.raises(InvalidEvent, match="bad total"):
        on_event(order_event("order.placed", total="a lot"))

    assert ProcessedEvent.objects.count() == 0


def test_a_failed_send_leaves_the_event_to_be_handled_again(mailoutbox, settings):
    known_customer()
    _, on_event = HANDLERS["order-notifications"]
    event = order_event("order.refunded")
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 9  # discard port: refused

    with pytest.raises(ConnectionRefusedError):
        on_event(event)
    not_recorded = ProcessedEvent.objects.filter(event_id=event.event_id).count() == 0
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    on_event(event)

    assert not_recorded
    assert [(m.subject, m.to) for m in mailoutbox] == [("Order #7: refunded", ["ada@example.com"])]
    assert ProcessedEvent.objects.filter(event_id=event.event_id).count() == 1


@pytest.mark.django_db(transaction=True)
def test_event_arriving_on_a_broken_database_connection_is_handled_once_on_the_retry(
    mailoutbox,
):
    known_customer()
    _, on_event = HANDLERS["order-notifications"]
    on_event(order_event("order.refunded", order_id=6))  # the loop is warm: no check is due
    with pytest.raises(OperationalError), connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")  # the server goes away
    event = order_event("order.refunded")

    # The first try may meet the dead connection; it must leave a working one behind.
    with contextlib.suppress(OperationalError, InterfaceError):
        on_event(event)
    on_event(event)

    assert [m.subject for m in mailoutbox] == ["Order #6: refunded", "Order #7: refunded"]
    assert ProcessedEvent.objects.filter(event_id=event.event_id).count() == 1


def test_unknown_customer_with_identity_down_is_retried_later(mailoutbox, settings):
    settings.IDENTITY_URL = "http://127.0.0.1:9"  # discard port: nothing listens
    cache.delete(missing_user_cache_key(31337))
    _, on_event = HANDLERS["order-notifications"]
    event = order_event("order.refunded")

    with pytest.raises(DownstreamUnavailable):
        on_event(event)
    with pytest.raises(DownstreamUnavailable):
        on_event(event)  # the redelivery asks again: an outage is not "no such user"

    assert mailoutbox == []
    assert ProcessedEvent.objects.filter(event_id=event.event_id).count() == 0
    assert Customer.objects.count() == 0
    assert cache.get(missing_user_cache_key(31337)) is None


def test_a_rejected_order_mail_says_why_and_that_it_is_refunded_in_full(mailoutbox):
    known_customer()
    _, on_event = HANDLERS["order-notifications"]

    on_event(order_event("order.status_changed", to_status="rejected", reason="out of oat milk"))

    [mail] = mailoutbox
    assert mail.body.splitlines()[:3] == [
        "Sorry, we could not make order #7. Out of oat milk.",
        "",
        "We are refunding the full £5.50 to your card; it reaches you in a few working "
        "days, depending on your bank.",
    ]
    html = mail.alternatives[0][0]
    assert "Out of oat milk." in html


@pytest.mark.parametrize("to_status", ["not_collected", "expired"])
def test_swept_orders_send_no_mail(mailoutbox, to_status):
    known_customer()
    _, on_event = HANDLERS["order-notifications"]

    on_event(order_event("order.status_changed", to_status=to_status, reason="stale"))

    assert mailoutbox == []


def test_a_part_refund_mail_says_how_much_of_the_total_and_why(mailoutbox):
    known_customer()
    _, on_event = HANDLERS["order-notifications"]

    on_event(
        order_event(
            "order.refunded", amount=150, refunded_total=150, full=False, reason="latte was cold"
        )
    )

    [mail] = mailoutbox
    assert mail.subject == "Order #7: £1.50 refunded"
    assert mail.body.splitlines()[:3] == [
        "We refunded £1.50 of the £5.50 you paid for order #7. Latte was cold.",
        "",
        "It reaches your card in a few working days, depending on your bank.",
    ]
