"""How a placement is written (order_site/orders/placement.py): one statement for every
row (shared/db.py), all or none, and the same rows as the plain ORM would write."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from django.db.models.functions import Now
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from order_site.orders import placement, services
from order_site.orders.models import Order, OrderLine, OrderStatusChange
from order_site.orders.serializers import render_order
from order_site.outbox.models import OutboxEvent
from order_site.payments.models import Payment
from shared.db import KeyBlocks, ids_reserve, rows_insert_together
from tests.order.conftest import CUSTOMER_ID, donut_line, latte_line
from tests.order.factories.orders import OrderFactory

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


def test_a_placement_takes_one_statement_and_writes_every_row(
    menu, client_for, customer, monkeypatch
):
    # A fresh key block, taken by the first placement: what earlier tests left of the
    # process's block must not decide whether the second needs a key round trip.
    monkeypatch.setattr(placement, "_keys", KeyBlocks(block=64))
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
    taken = OrderFactory(idempotency_key="taken")
    order = new_order()
    change = OrderStatusChange(order=order, to_status=order.status)
    clash = Payment(order_id=order.id, amount=450, currency="EUR", payment_token="pm_x")
    clash.idempotency_key = "charge"
    again = Payment(order_id=order.id, amount=450, currency="EUR", payment_token="pm_x")
    again.idempotency_key = "charge"  # the same key twice: the unique constraint refuses

    with pytest.raises(IntegrityError):
        rows_insert_together([order, change, clash, again])

    # The caller's transaction (the test's) is still usable, and nothing was written.
    assert not Order.objects.filter(id=order.id).exists()
    assert not OrderStatusChange.objects.filter(order_id=order.id).exists()
    assert not Payment.objects.exists()
    assert list(Order.objects.values_list("id", flat=True)) == [taken.id]


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


# ---- the fast path against the plain ORM -------------------------------------------------

# Columns and JSON keys whose values differ between any two writes by nature: the
# clock's readings and the event's fresh UUID. Everything else must be equal.
VARIES = {"created_at", "updated_at", "at", "occurred_at", "event_id"}
TABLES: tuple[type[Model], ...] = (Order, OrderLine, OrderStatusChange, OutboxEvent, Payment)


class _Undo(Exception):
    """Rolls a write back once its rows are read."""


def _steady(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "<varies>" if k in VARIES else _steady(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_steady(v) for v in value]
    return value


def _sequences_at(start: dict[type[Model], int]) -> None:
    """Each table's key sequence back to `start`: both writes get the same keys."""
    with connection.cursor() as cursor:
        for model, value in start.items():
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [model._meta.db_table, value]
            )


def _placed(write: placement.PlacementWriter, start: dict[type[Model], int]) -> dict[str, Any]:
    """Every row a placement wrote with `write`, read back, and then undone."""
    _sequences_at(start)
    placement._keys = KeyBlocks(block=64)  # the fast path's keys from `start` too
    rows: dict[str, Any] = {}
    with contextlib.suppress(_Undo), transaction.atomic():
        result = services.order_place(
            customer_id=CUSTOMER_ID,
            idempotency_key="row-for-row",
            fingerprint="f",
            lines=[
                services.LineRequest(
                    product_id=line["product_id"],
                    quantity=line["quantity"],
                    variation_id=line["variation_id"],
                    option_ids=tuple(line.get("option_ids", ())),
                )
                for line in (latte_line(2), donut_line(1))
            ],
            render=render_order,
            payment_method="pm_card_visa",
            write=write,
        )
        order = Order.objects.get(id=result.order.id)
        assert order.response_body == result.body == render_order(order)  # as read back
        rows = {
            "orders": list(Order.objects.filter(id=order.id).values()),
            "lines": list(OrderLine.objects.filter(order=order).order_by("id").values()),
            "history": list(OrderStatusChange.objects.filter(order=order).values()),
            "outbox": list(OutboxEvent.objects.filter(key=str(order.id)).values()),
            "payments": list(Payment.objects.filter(order_id=order.id).values()),
        }
        raise _Undo
    return rows


def test_the_fast_placement_writes_the_rows_the_plain_orm_writes(menu, monkeypatch):
    monkeypatch.setattr(placement, "_keys", placement._keys)  # restored afterwards
    with connection.cursor() as cursor:
        start: dict[type[Model], int] = {}
        for model in TABLES:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [model._meta.db_table]
            )
            start[model] = cursor.fetchone()[0] + 1000

    plain = _placed(placement.placement_write_plain, start)
    fast = _placed(placement.placement_write, start)

    assert [len(plain[table]) for table in plain] == [1, 2, 1, 1, 1]
    assert plain["lines"][0]["options"] == fast["lines"][0]["options"] != []
    assert _steady(fast) == _steady(plain)
