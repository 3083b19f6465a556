"""Writing to the outbox and purging what Kafka acknowledged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from order_site.outbox.models import OutboxEvent
from order_site.outbox.services import outbox_purge_sent, outbox_record

pytestmark = pytest.mark.django_db(transaction=True)


def record(key: str) -> OutboxEvent:
    with transaction.atomic():
        envelope = outbox_record(topic="t", key=key, event_type="x.y", payload={"k": key})
    return OutboxEvent.objects.get(event_id=envelope.event_id)


def test_outbox_record_refuses_to_write_outside_a_transaction():
    with pytest.raises(transaction.TransactionManagementError):
        outbox_record(topic="t", key="1", event_type="x.y", payload={})

    assert OutboxEvent.objects.count() == 0


def test_outbox_row_holds_the_whole_envelope():
    row = record("7")

    assert row.envelope["event_type"] == "x.y"
    assert row.envelope["payload"] == {"k": "7"}
    assert row.envelope["event_id"] == str(row.event_id)
    assert row.sent_at is None


def test_purge_deletes_only_rows_sent_long_enough_ago():
    old_sent, new_sent, unsent = record("1"), record("2"), record("3")
    OutboxEvent.objects.filter(id=old_sent.id).update(sent_at=timezone.now() - timedelta(days=8))
    OutboxEvent.objects.filter(id=new_sent.id).update(sent_at=timezone.now() - timedelta(days=1))
    OutboxEvent.objects.filter(id=unsent.id).update(created_at=timezone.now() - timedelta(days=30))

    deleted = outbox_purge_sent(older_than=timedelta(days=7))

    assert deleted == 1
    assert sorted(OutboxEvent.objects.values_list("key", flat=True)) == ["2", "3"]
