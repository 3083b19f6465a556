"""Recording that a consumer handled an event: one statement, a repeat answers False."""

from __future__ import annotations

import uuid

import pytest
from django.db import transaction

from order_site.outbox.models import ProcessedEvent
from order_site.outbox.services import processed_event_record

pytestmark = pytest.mark.django_db(transaction=True)


def test_first_record_is_new_and_a_repeat_is_not_in_one_statement_each(
    django_assert_num_queries,
):
    event_id = str(uuid.uuid4())

    with transaction.atomic():
        with django_assert_num_queries(1):
            first = processed_event_record(consumer="c", event_id=event_id, event_type="x.y")
        with django_assert_num_queries(1):  # no savepoint around the duplicate
            repeat = processed_event_record(consumer="c", event_id=event_id, event_type="x.y")
        # The duplicate left the transaction usable.
        rows = list(ProcessedEvent.objects.values_list("consumer", "event_id", "event_type"))

    assert (first, repeat) == (True, False)
    assert rows == [("c", uuid.UUID(event_id), "x.y")]


def test_each_consumer_records_the_same_event_once():
    event_id = str(uuid.uuid4())

    answers = [
        processed_event_record(consumer=consumer, event_id=event_id, event_type="x.y")
        for consumer in ("a", "b", "a", "b")
    ]

    assert answers == [True, True, False, False]
    assert ProcessedEvent.objects.filter(event_id=event_id).count() == 2


def test_a_record_rolled_back_with_its_transaction_is_new_again():
    event_id = str(uuid.uuid4())

    def handle_and_fail() -> None:
        with transaction.atomic():
            processed_event_record(consumer="c", event_id=event_id, event_type="x.y")
            raise RuntimeError("the handler failed")

    with pytest.raises(RuntimeError, match="the handler failed"):
        handle_and_fail()
    again = processed_event_record(consumer="c", event_id=event_id, event_type="x.y")

    assert again is True
    assert ProcessedEvent.objects.filter(event_id=event_id).count() == 1
