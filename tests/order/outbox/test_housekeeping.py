"""Order's scheduled purges on real PostgreSQL: old rows go, recent and unsent ones stay."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from order_site.config.celery import app
from order_site.outbox.models import OutboxEvent, ProcessedEvent
from order_site.outbox.services import processed_event_purge, processed_event_record
from order_site.outbox.tasks import outbox_purge_sent_task, processed_event_purge_task
from shared.housekeeping import delete_in_batches
from tests.order.factories.outbox import OutboxEventFactory, ProcessedEventFactory

pytestmark = pytest.mark.django_db

PURGE_TASKS = {
    "order_site.outbox.tasks.outbox_purge_sent_task",
    "order_site.outbox.tasks.processed_event_purge_task",
}


def processed(consumer: str, *, days_ago: float) -> str:
    row = ProcessedEventFactory(
        consumer=consumer, processed_at=timezone.now() - timedelta(days=days_ago)
    )
    return str(row.event_id)


def test_processed_event_purge_deletes_only_rows_older_than_the_retention():
    processed("order-users", days_ago=15)
    processed("order-notifications", days_ago=20)
    kept = {processed("order-users", days_ago=13), processed("order-notifications", days_ago=0)}

    deleted = processed_event_purge(older_than=timedelta(days=14))

    assert deleted == 2
    assert set(map(str, ProcessedEvent.objects.values_list("event_id", flat=True))) == kept


def test_a_purged_event_is_new_again_so_the_retention_must_outlive_kafkas():
    event_id = processed("order-users", days_ago=30)

    processed_event_purge(older_than=timedelta(days=14))

    assert processed_event_record(consumer="order-users", event_id=event_id, event_type="x.y")


def test_processed_event_purge_task_uses_the_retention_setting(settings: Any):
    processed("c", days_ago=3)
    kept = processed("c", days_ago=1)
    settings.PROCESSED_EVENT_RETENTION_SECONDS = 2 * 86400

    deleted = processed_event_purge_task.apply().get()

    assert deleted == 1
    assert list(map(str, ProcessedEvent.objects.values_list("event_id", flat=True))) == [kept]


def test_outbox_purge_task_keeps_unsent_and_recently_sent_rows(settings: Any):
    now = timezone.now()
    OutboxEventFactory(key="0", sent_at=now - timedelta(days=8))
    OutboxEventFactory(key="1", sent_at=now - timedelta(days=6))
    OutboxEventFactory(key="2", created_at=now - timedelta(days=30))
    settings.OUTBOX_SENT_RETENTION_SECONDS = 7 * 86400

    deleted = outbox_purge_sent_task.apply().get()

    assert deleted == 1
    assert sorted(OutboxEvent.objects.values_list("key", flat=True)) == ["1", "2"]


def test_delete_in_batches_deletes_every_match_across_batches():
    for days in (20, 21, 22, 23, 24):
        processed("c", days_ago=days)
    kept = processed("c", days_ago=1)
    old = ProcessedEvent.objects.filter(processed_at__lt=timezone.now() - timedelta(days=10))

    deleted = delete_in_batches(old, batch_size=2)

    assert deleted == 5
    assert list(map(str, ProcessedEvent.objects.values_list("event_id", flat=True))) == [kept]


def test_beat_schedule_runs_every_purge_task_and_each_is_registered():
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert scheduled >= PURGE_TASKS
    app.loader.import_default_modules()
    assert scheduled <= set(app.tasks)
