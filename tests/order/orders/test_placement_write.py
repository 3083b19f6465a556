"""How a placement is written: one statement for every row (shared/db.py), all or none."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models.functions import Now
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from order_site.orders.models import Order, OrderLine, OrderStatusChange
from order_site.outbox.models import OutboxEvent
from order_site.payments.models import Payment
from shared.db import KeyBlocks, ids_reserve, rows_insert_together
from tests.order.conftest import donut_line, latte_line

pytestmark = pytest.mark.django_db


def new_order(key: str | None = None) -> Order:
    (order_id,) = ids_reserve({Order: 1})[Order]
    return Order(
        id=order_id,
        customer_id=1001,
        total=450,
        currency="EUR",
        idempotency_key=key or str(uuid.uuid4()),
        request_fingerprint="f",
        response_status=201,
        response_body={},
    )


def test_a_placement_takes_one_statement_and_writes_every_row(menu, client_for, customer):
    client = client_for(customer)
    client.post(
        "/api/orders/",
        {"payment_method": "pm_card_visa", "lines": [donut_line(1)]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="w",
    )

    body = {
        "payment_method": "pm_card_visa",
        "lines": [donut_line(2), latte_line(1)],
    }  # (reads the menu: before counting)

    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            "/api/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="two-statements"
        )

    assert response.status_code == 201
    writes = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(writes) == 1, writes  # one INSERT … of every row (keys from the block)
    body = response.json()
    order = Order.objects.get(id=body["id"])
    assert order.response_body == body
    assert [line.id for line in order.lines.all()] == [line["id"] for line in body["lines"]]
    assert order.status_changes.count() == 1
    assert OutboxEvent.objects.filter(key=str(order.id), event_type="order.placed").count() == 1
    payment = Payment.objects.get(order_id=order.id)
    assert (payment.amount, payment.status, payment.queued_at) == (order.total, "requested", None)


def test_reserved_keys_are_new_and_distinct():
    keys = ids_reserve({Order: 2, OrderLine: 3, Payment: 0})

    assert len(set(keys[Order])) == 2
    assert len(set(keys[OrderLine])) == 3
    assert keys[Payment] == []
    assert not Order.objects.filter(id__in=keys[Order]).exists()


def test_when_one_row_is_refused_none_is_written(menu):
    taken = Payment.objects.create(
        order_id=1, amount=450, currency="EUR", payment_token="pm_x", idempotency_key="taken"
    )
    order = new_order()
    change = OrderStatusChange(order=order, to_status=order.status)
    clash = Payment(
        order_id=order.id, amount=450, currency="EUR", payment_token="pm_x", idempotency_key="taken"
    )

    with pytest.raises(IntegrityError):
        rows_insert_together([order, change, clash])

    # The caller's transaction (the test's) is still usable, and nothing was written.
    assert not Order.objects.filter(id=order.id).exists()
    assert not OrderStatusChange.objects.filter(order_id=order.id).exists()
    assert list(Payment.objects.values_list("id", flat=True)) == [taken.id]


def test_a_second_order_with_the_same_key_is_refused_by_the_unique_key():
    rows_insert_together([new_order("same-key")])

    with pytest.raises(IntegrityError), transaction.atomic():
        rows_insert_together([new_order("same-key")])

    assert Order.objects.filter(idempotency_key="same-key").count() == 1


def test_rows_of_a_model_either_all_have_keys_or_none():
    order = new_order()
    with pytest.raises(ValueError, match="every row has its key or none"):
        rows_insert_together(
            [
                order,
                OrderStatusChange(id=10**12, order=order, to_status=order.status),
                OrderStatusChange(order=order, to_status=order.status),
            ]
        )


def test_timestamps_fill_themselves_and_keys_left_unset_come_from_the_database(menu: Any):
    order = new_order()
    change = OrderStatusChange(order=order, to_status=order.status)

    rows_insert_together([order, change])

    stored = Order.objects.get(id=order.id)
    assert stored.created_at == order.created_at
    assert stored.updated_at is not None
    assert OrderStatusChange.objects.get(order=stored).at is not None


def test_key_blocks_hand_out_distinct_keys_and_reserve_a_block_when_short():
    blocks = KeyBlocks(block=4)

    with CaptureQueriesContext(connection) as queries:
        first = blocks.take({Order: 1, OrderLine: 2})
        second = blocks.take({Order: 1, OrderLine: 2})
        third = blocks.take({Order: 1, OrderLine: 3})  # lines ran short: a new block

    assert len(queries) == 2
    orders = first[Order] + second[Order] + third[Order]
    lines = first[OrderLine] + second[OrderLine] + third[OrderLine]
    assert len(set(orders)) == 3
    assert len(set(lines)) == 7
    assert not Order.objects.filter(id__in=orders).exists()


def test_rows_of_several_shapes_are_written_alike_with_and_without_recorded_queries(menu):
    """The statement of a shape is kept and run through psycopg's raw cursor, or through
    Django's cursor while queries are recorded: the rows come out the same either way,
    NULL columns of a multi-row INSERT included."""

    def rows() -> tuple[list[Order], list[OrderStatusChange]]:
        orders = [new_order(), new_order()]
        orders[1].refunded_at = timezone.now()  # one NULL and one timestamp in a column
        changes = [
            OrderStatusChange(order=order, to_status=order.status, note=f"n{i}")
            for i, order in enumerate(orders)
        ]
        return orders, changes

    plain, changes = rows()
    rows_insert_together([*plain, *changes])
    recorded, changes = rows()
    with CaptureQueriesContext(connection) as queries:
        rows_insert_together([*recorded, *changes])

    statements = [q["sql"] for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 1, statements
    for written in (plain, recorded):
        stored = {o.id: o for o in Order.objects.filter(id__in=[o.id for o in written])}
        assert [stored[o.id].refunded_at for o in written] == [None, written[1].refunded_at]
        assert [stored[o.id].response_body for o in written] == [{}, {}]
        notes = OrderStatusChange.objects.filter(order_id__in=[o.id for o in written])
        assert sorted(notes.values_list("note", flat=True)) == ["n0", "n1"]


def test_a_value_that_is_an_sql_expression_is_written_by_djangos_compiler(menu):
    order = new_order()
    change = OrderStatusChange(order=order, to_status=order.status, at=Now())

    rows_insert_together([order, change])

    stored = OrderStatusChange.objects.get(order_id=order.id)
    assert stored.at is not None
    assert abs((timezone.now() - stored.at).total_seconds()) < 60
