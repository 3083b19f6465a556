"""Notification e-mails through the real broker and the SMTP sink, once per event."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from devstack.servers.smtp import read_messages
from order_site.notifications.management.commands.run_order_consumers import HANDLERS
from order_site.orders import services
from order_site.outbox.models import OutboxEvent, ProcessedEvent
from order_site.users.principals import Principal
from order_site.users.services import customer_apply_event
from shared.events import Envelope, build_envelope, kafka_consumer, run_consumer
from tests.order.conftest import donut_line
from tests.order.factories.menu import VariationFactory
from tests.order.outbox.kafka_helpers import running_relay, wait_until_all_sent

pytestmark = [pytest.mark.kafka, pytest.mark.django_db(transaction=True)]

BARISTA = Principal(2001, frozenset({"barista"}))


@contextmanager
def running_consumer(name: str, group: str) -> Iterator[set[str]]:
    """One of Order's consumers (as `run_order_consumers` runs it) under a given group;
    yields the ids of the events it has handled (or skipped as already processed)."""
    topic, handler = HANDLERS[name]
    stop = threading.Event()
    seen: set[str] = set()

    def on_event(envelope: Envelope) -> None:
        handler(envelope)
        seen.add(envelope.event_id)

    def loop() -> None:
        try:
            run_consumer(
                consumer=kafka_consumer(settings.KAFKA_BOOTSTRAP_SERVERS, group),
                topics=[topic],
                on_event=on_event,
                should_stop=stop.is_set,
                poll=0.2,
            )
        finally:
            connection.close()

    thread = threading.Thread(target=loop)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join(timeout=30)


def mails_to(maildir: Any, address: str) -> list[str]:
    return sorted(str(m["Subject"]) for m in read_messages(maildir) if m["To"] == address)


def text_part(message: Any) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return str(part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8"))


def wait_for(check: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not check():
        time.sleep(0.2)


@pytest.fixture
def smtp(settings: Any) -> None:
    # pytest-django swaps in the locmem backend; these tests use the real sink.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def test_customer_gets_one_mail_per_paid_ready_and_failed_event_even_on_redelivery(
    smtp, test_stack
):
    # What the mails below quote: a Boston Cream donut at 2.00 + 0.50, with its allergens.
    VariationFactory(
        product__name="Donuts",
        product__base_price=200,
        product__allergens=["gluten", "eggs", "milk", "soybeans"],
        name="Boston Cream",
        price_delta=50,
    )
    user_id = 900000 + uuid.uuid4().int % 100000
    address = f"customer-{uuid.uuid4().hex[:8]}@example.com"
    customer_apply_event(
        envelope=build_envelope(
            event_type="user.created",
            payload={"user_id": str(user_id), "email": address, "full_name": "Ada", "roles": []},
        )
    )
    customer = Principal(user_id, frozenset({"customer"}))
    paid = services.order_place(
        customer_id=user_id,
        idempotency_key="n1",
        fingerprint="f1",
        lines=[
            services.LineRequest(
                product_id=donut_line()["product_id"],
                quantity=1,
                variation_id=donut_line()["variation_id"],
            )
        ],
        render=lambda order: {"id": order.id},
        payment_method="pm_card_visa",
    ).order
    failed = services.order_place(
        customer_id=customer.user_id,
        idempotency_key="n2",
        fingerprint="f2",
        lines=[
            services.LineRequest(
                product_id=donut_line()["product_id"],
                quantity=2,
                variation_id=donut_line()["variation_id"],
            )
        ],
        render=lambda order: {"id": order.id},
        payment_method="pm_card_visa",
    ).order
    services.order_mark_paid(order_id=paid.id, payment_reference="pi_n1")
    services.order_advance(order_id=paid.id, to_status="in_preparation", actor=BARISTA)
    services.order_advance(order_id=paid.id, to_status="ready", actor=BARISTA)
    services.order_mark_payment_failed(order_id=failed.id, reason="card declined")
    expected = sorted(
        [
            "Order A-001: paid",
            "Order A-001 is ready",
            f"Order #{failed.id}: payment failed",
        ]
    )
    with running_relay():
        assert wait_until_all_sent(timeout=60) == 0

    events = set(map(str, OutboxEvent.objects.values_list("event_id", flat=True)))

    with running_consumer("order-notifications", f"test-{uuid.uuid4().hex}") as seen:
        wait_for(lambda: events <= seen and len(mails_to(test_stack.maildir, address)) >= 3)
    # The same events delivered again (a new group reads the topic from the start).
    with running_consumer("order-notifications", f"test-{uuid.uuid4().hex}") as seen_again:
        wait_for(lambda: events <= seen_again)
        time.sleep(1)

    assert mails_to(test_stack.maildir, address) == expected
    # Only the three events that mail someone left a processed-event row.
    assert sorted(
        ProcessedEvent.objects.filter(
            consumer="order-notifications", event_id__in=events
        ).values_list("event_type", flat=True)
    ) == ["order.paid", "order.payment_failed", "order.status_changed"]
    received = {
        str(m["Subject"]): m for m in read_messages(test_stack.maildir) if m["To"] == address
    }
    ready = received["Order A-001 is ready"]
    assert "Your order A-001 is ready to collect" in text_part(ready)
    # The receipt as it left through SMTP: text and HTML alternatives of one message.
    receipt = received["Order A-001: paid"]
    assert receipt.get_content_type() == "multipart/alternative"
    assert "1 x Donuts (Boston Cream)" in text_part(receipt)
    assert "VAT included (20%)                     £0.42" in text_part(receipt)
    html = next(p for p in receipt.walk() if p.get_content_type() == "text/html")
    assert (
        "<td>Donuts (Boston Cream)<br><small>Contains: cereals containing gluten, eggs, milk, "
        "soybeans.</small></td>"
    ) in html.get_payload(decode=True).decode()
    failed_mail = text_part(received[f"Order #{failed.id}: payment failed"])
    assert f"order #{failed.id}. Card declined. Nothing was charged." in failed_mail
