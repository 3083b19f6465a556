"""The barista queue: every column counted and paged, new arrivals in every answer,
served by an index however many orders are open (issue 11)."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from order_site.orders import services
from order_site.orders.models import Order, OrderStatus
from order_site.orders.numbers import pickup_number_format
from tests.order.conftest import donut_line
from tests.order.factories.orders import OrderRowFactory

pytestmark = pytest.mark.django_db


def backlog(count: int, status: str = OrderStatus.PLACED, *, hours_ago: int = 3) -> list[int]:
    """`count` paid orders of `status`, made an hour or more before now, oldest first."""
    start = timezone.now() - timedelta(hours=hours_ago)
    orders = Order.objects.bulk_create(OrderRowFactory.build_batch(count, status=status))
    ids = [order.id for order in orders]
    with connection.cursor() as cursor:  # auto_now_add ignores a value given on create
        cursor.execute(
            "UPDATE orders_order SET created_at = %s + (id - %s) * interval '1 second' "
            "WHERE id BETWEEN %s AND %s",
            [start, ids[0], ids[0], ids[-1]],
        )
    return ids


def place_and_pay(client: Any, key: str) -> int:
    response = client.post(
        "/api/orders/",
        {"payment_method": "pm_card_visa", "lines": [donut_line(1)]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    order_id = int(response.json()["id"])
    services.order_mark_paid(order_id=order_id, payment_reference=f"pi_{order_id}")
    return order_id


def column(answer: dict[str, Any], status: str) -> dict[str, Any]:
    (found,) = [c for c in answer["columns"] if c["status"] == status]
    return found


def test_a_newly_paid_order_is_in_the_queue_answer_behind_500_older_open_orders(
    menu, client_for, customer, barista
):
    old = backlog(500)
    new_id = place_and_pay(client_for(customer), "new")

    answer = client_for(barista).get("/api/orders/queue/").json()

    assert answer["counts"] == {"placed": 501, "in_preparation": 0, "ready": 0}
    placed = column(answer, "placed")
    assert placed["count"] == 501
    assert [o["id"] for o in placed["results"]] == old[:50]
    assert [o["id"] for o in placed["newest"]] == [new_id, *old[::-1][:4]]
    assert placed["newest"][0]["number"] == "A-001"
    assert [c["status"] for c in answer["columns"]] == ["placed", "in_preparation", "ready"]


def test_paging_a_column_by_cursor_gives_every_order_once_oldest_first(
    menu, client_for, customer, barista
):
    old = backlog(120)
    backlog(3, OrderStatus.READY)
    new_id = place_and_pay(client_for(customer), "new")
    client = client_for(barista)

    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"status": "placed", "limit": 50}
        if cursor:
            params["cursor"] = cursor
        answer = client.get("/api/orders/queue/", params).json()
        (placed,) = answer["columns"]
        seen += [o["id"] for o in placed["results"]]
        pages += 1
        cursor = placed["next_cursor"]
        if cursor is None:
            break

    assert seen == [*old, new_id]
    assert pages == 3
    assert answer["counts"] == {"placed": 121, "in_preparation": 0, "ready": 3}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "placed", "cursor": "yesterday~1"}, "cursor"),
        ({"status": "placed", "cursor": "2026-01-01T00:00:00~x"}, "cursor"),
        ({"status": "placed", "cursor": "2026-01-01T00:00:00+00:00~0"}, "cursor"),
        ({"status": "placed", "cursor": f"2026-01-01T00:00:00+00:00~{2**63}"}, "cursor"),
        ({"cursor": "2026-01-01T00:00:00+00:00~1"}, "cursor"),
        ({"status": "collected"}, "status"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
    ],
)
def test_bad_queue_parameters_are_400_naming_the_parameter(barista, client_for, params, field):
    response = client_for(barista).get("/api/orders/queue/", params)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert list(response.json()["errors"]) == [field]


def explain(sql: str, params: Any) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_queue_reads_use_the_column_index_not_a_scan_of_every_order(menu):
    # A day's history of collected orders and a backlog of 700 open ones.
    backlog(20_000, OrderStatus.COLLECTED, hours_ago=30)
    backlog(400)
    backlog(200, OrderStatus.IN_PREPARATION)
    backlog(100, OrderStatus.READY)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE orders_order")
    from order_site.orders import selectors

    after = selectors.queue_cursor_parse(
        selectors.queue_cursor(Order.objects.filter(status="placed").order_by("id")[10])
    )
    page = Order.objects.filter(status="placed").order_by("created_at", "id")
    at, pk = after
    from django.db.models import Count, Q

    keyset = page.filter(Q(created_at__gt=at) | Q(created_at=at, id__gt=pk))[:51]
    newest = Order.objects.filter(status="ready").order_by("-created_at", "-id")[:5]
    counts = (
        Order.objects.filter(status__in=["placed", "in_preparation", "ready"])
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
    )

    plans = [explain(*qs.query.sql_with_params()) for qs in (keyset, newest, counts)]

    for plan in plans:
        assert "Seq Scan" not in plan, plan
    assert all("orders_queue_by_status" in plan for plan in plans[:2]), plans


def test_paid_orders_get_the_days_pickup_numbers_in_order(menu, client_for, customer):
    client = client_for(customer)
    first, second = place_and_pay(client, "one"), place_and_pay(client, "two")
    unpaid = client.post(
        "/api/orders/",
        {"payment_method": "pm_card_visa", "lines": [donut_line(1)]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="three",
    ).json()

    shown = [client.get(f"/api/orders/{i}/").json()["number"] for i in (first, second)]

    assert shown == ["A-001", "A-002"]
    assert unpaid["number"] is None
    assert Order.objects.get(id=first).number_day == timezone.localdate()


def test_paying_twice_keeps_the_first_pickup_number(menu, client_for, customer):
    order_id = place_and_pay(client_for(customer), "one")

    services.order_mark_paid(order_id=order_id, payment_reference="pi_again")

    assert Order.objects.get(id=order_id).number == "A-001"


def test_the_database_refuses_a_pickup_number_twice_on_one_day(menu):
    first, second = backlog(2)
    Order.objects.filter(id=first).update(number="A-001", number_day=date(2026, 12, 4))

    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(id=second).update(number="A-001", number_day=date(2026, 12, 4))

    assert Order.objects.get(id=second).number == ""


@pytest.mark.parametrize(
    ("sequence", "number"),
    [
        (1, "A-001"),
        (42, "A-042"),
        (999, "A-999"),
        (1000, "B-001"),
        (8 * 999 + 1, "J-001"),
        (24 * 999, "Z-999"),
        (24 * 999 + 1, "AA-001"),
        (25 * 999 + 1, "AB-001"),
        (48 * 999 + 1, "BA-001"),
    ],
)
def test_pickup_numbers_count_up_per_letter_skipping_i_and_o(sequence, number):
    assert pickup_number_format(sequence) == number


def test_pickup_numbers_never_repeat_within_a_day_even_past_z_999():
    """A repeat breaks the day's unique constraint, and with it every later payment."""
    sequences = range(1, 700 * 999, 997)  # a stride that visits every letter prefix
    formatted = [pickup_number_format(n) for n in sequences]
    assert len(set(formatted)) == len(formatted)
    assert max(len(n) for n in formatted) <= 8  # Order.number's max_length


@pytest.mark.django_db(transaction=True)
def test_ten_orders_paid_at_once_get_ten_different_numbers_of_the_day():
    orders = backlog(10, OrderStatus.PENDING_PAYMENT)
    barrier = threading.Barrier(len(orders))
    errors: list[BaseException] = []

    def pay_one(order_id: int) -> None:
        try:
            barrier.wait(timeout=30)
            services.order_mark_paid(order_id=order_id, payment_reference=f"pi_{order_id}")
        except BaseException as exc:  # re-raised in the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=pay_one, args=(order_id,)) for order_id in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    numbers = sorted(Order.objects.filter(id__in=orders).values_list("number", flat=True))
    assert numbers == [f"A-{n:03d}" for n in range(1, 11)]
