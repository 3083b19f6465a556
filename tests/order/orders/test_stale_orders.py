"""Stale orders (issue 11): staff reject with a reason; sweeps move uncollected and unpaid ones."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from order_site.order_payments.charges import payment_charge
from order_site.orders.models import TRANSITIONS, Order, OrderStatusChange
from order_site.orders.tasks import orders_not_collected_sweep_task, orders_unpaid_expire_task
from order_site.outbox.models import OutboxEvent
from order_site.payments.models import Payment, Refund
from tests.order.conftest import BARISTA_ID, MANAGER_ID, donut_line, pay

pytestmark = pytest.mark.django_db


def place(client: Any, key: str) -> Order:
    response = client.post(
        "/api/orders/",
        {"payment_method": "pm_card_visa", "lines": [donut_line(2)]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert response.status_code == 201
    return Order.objects.get(id=response.json()["id"])


@pytest.fixture
def placed_order(menu, client_for, customer) -> Order:
    order = place(client_for(customer), "paid")
    pay(order.id)
    order.refresh_from_db()
    return order


def snapshot(order: Order) -> tuple[Any, ...]:
    order.refresh_from_db()
    return (
        order.status,
        order.updated_at,
        order.status_changes.count(),
        OutboxEvent.objects.count(),
        Refund.objects.filter(order_id=order.id).count(),
    )


def reject(client: Any, order: Order, body: Any) -> Any:
    return client.post(f"/api/orders/{order.id}/reject/", body, format="json")


def last_event(order: Order) -> OutboxEvent:
    return OutboxEvent.objects.filter(key=str(order.id)).order_by("id").last()


def test_barista_rejects_a_placed_order_with_a_reason_and_it_is_refunded_in_full(
    placed_order, client_for, barista
):
    response = reject(client_for(barista), placed_order, {"reason": "  Out of oat   milk "})

    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    change = placed_order.status_changes.order_by("id").last()
    assert (change.from_status, change.to_status, change.actor_id, change.note) == (
        "placed",
        "rejected",
        BARISTA_ID,
        "Out of oat milk",
    )
    event = last_event(placed_order)
    assert event.event_type == "order.status_changed"
    payload = event.envelope["payload"]
    assert {k: payload[k] for k in ("status", "from_status", "to_status", "reason")} == {
        "status": "rejected",
        "from_status": "placed",
        "to_status": "rejected",
        "reason": "Out of oat milk",
    }
    assert [
        (r.amount, r.idempotency_key) for r in Refund.objects.filter(order_id=placed_order.id)
    ] == [(500, f"order-{placed_order.id}-refund")]


def test_manager_rejects_an_order_in_preparation(placed_order, client_for, barista, manager):
    client_for(barista).post(
        f"/api/orders/{placed_order.id}/advance/", {"status": "in_preparation"}, format="json"
    )

    response = reject(client_for(manager), placed_order, {"reason": "Machine broke"})

    assert response.status_code == 200
    change = placed_order.status_changes.order_by("id").last()
    assert (change.from_status, change.to_status, change.actor_id) == (
        "in_preparation",
        "rejected",
        MANAGER_ID,
    )
    assert Refund.objects.filter(order_id=placed_order.id).count() == 1


def test_rejecting_twice_is_409_and_requests_no_second_refund(placed_order, client_for, barista):
    client = client_for(barista)
    first = reject(client, placed_order, {"reason": "Out of oat milk"})
    before = snapshot(placed_order)

    again = reject(client, placed_order, {"reason": "Out of oat milk"})

    assert (first.status_code, again.status_code) == (200, 409)
    assert again.json()["current_status"] == "rejected"
    assert snapshot(placed_order) == before
    assert Refund.objects.filter(order_id=placed_order.id).count() == 1


def test_customer_cannot_reject_their_order(placed_order, client_for, customer):
    before = snapshot(placed_order)

    response = reject(client_for(customer), placed_order, {"reason": "changed my mind"})

    assert response.status_code == 403
    assert snapshot(placed_order) == before


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 201}])
def test_reject_without_a_usable_reason_is_400_naming_reason_and_changes_nothing(
    placed_order, client_for, barista, body
):
    before = snapshot(placed_order)

    response = reject(client_for(barista), placed_order, body)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert "reason" in response.json()["errors"]
    assert snapshot(placed_order) == before


def test_a_reason_of_200_characters_is_accepted(placed_order, client_for, barista):
    response = reject(client_for(barista), placed_order, {"reason": "x" * 200})

    assert response.status_code == 200


def test_an_unpaid_or_ready_order_cannot_be_rejected(menu, client_for, customer, barista):
    pending = place(client_for(customer), "unpaid")
    before = snapshot(pending)

    response = reject(client_for(barista), pending, {"reason": "Out of oat milk"})

    assert response.status_code == 409
    assert snapshot(pending) == before


def age_ready(order: Order, minutes: int) -> None:
    OrderStatusChange.objects.filter(order=order, to_status="ready").update(
        at=timezone.now() - timedelta(minutes=minutes)
    )


def make_ready(client: Any, order: Order) -> None:
    for status in ("in_preparation", "ready"):
        response = client.post(
            f"/api/orders/{order.id}/advance/", {"status": status}, format="json"
        )
        assert response.status_code == 200


def test_sweep_marks_only_ready_orders_older_than_the_setting_not_collected(
    menu, client_for, customer, barista
):
    client = client_for(customer)
    old, fresh, preparing = (place(client, key) for key in ("old", "fresh", "preparing"))
    for order in (old, fresh, preparing):
        pay(order.id)
    make_ready(client_for(barista), old)
    make_ready(client_for(barista), fresh)
    client_for(barista).post(
        f"/api/orders/{preparing.id}/advance/", {"status": "in_preparation"}, format="json"
    )
    # Placed long ago, but ready only 59 minutes: not stale yet.
    Order.objects.filter(id=fresh.id).update(created_at=timezone.now() - timedelta(hours=5))
    age_ready(old, 61)
    age_ready(fresh, 59)

    moved = orders_not_collected_sweep_task.apply().get()

    assert moved == 1
    statuses = {o.id: o.status for o in Order.objects.filter(id__in=[old.id, fresh.id])}
    assert statuses == {old.id: "not_collected", fresh.id: "ready"}
    change = old.status_changes.order_by("id").last()
    assert (change.from_status, change.to_status, change.actor_id, change.note) == (
        "ready",
        "not_collected",
        None,
        "not collected within 60 minutes of being ready",
    )
    payload = last_event(old).envelope["payload"]
    assert (payload["status"], payload["actor_id"]) == ("not_collected", None)
    assert orders_not_collected_sweep_task.apply().get() == 0  # a second run: nothing more


def test_the_not_collected_time_is_a_setting(menu, client_for, customer, barista, settings):
    settings.ORDER_NOT_COLLECTED_AFTER_MINUTES = 10
    order = place(client_for(customer), "ten")
    pay(order.id)
    make_ready(client_for(barista), order)
    age_ready(order, 11)

    assert orders_not_collected_sweep_task.apply().get() == 1


def test_sweep_expires_only_unpaid_orders_older_than_the_setting_and_cancels_their_charge(
    menu, client_for, customer
):
    client = client_for(customer)
    old, fresh, paid = (place(client, key) for key in ("old", "fresh", "paid-old"))
    pay(paid.id)
    Order.objects.filter(id__in=[old.id, paid.id]).update(
        created_at=timezone.now() - timedelta(minutes=31)
    )
    Order.objects.filter(id=fresh.id).update(created_at=timezone.now() - timedelta(minutes=29))

    expired = orders_unpaid_expire_task.apply().get()

    assert expired == 1
    statuses = dict(
        Order.objects.filter(id__in=[old.id, fresh.id, paid.id]).values_list("id", "status")
    )
    assert statuses == {old.id: "expired", fresh.id: "pending_payment", paid.id: "placed"}
    change = old.status_changes.order_by("id").last()
    assert (change.from_status, change.to_status, change.actor_id, change.note) == (
        "pending_payment",
        "expired",
        None,
        "not paid within 30 minutes",
    )
    assert Payment.objects.get(order_id=old.id).status == "cancelled"
    assert Payment.objects.get(order_id=fresh.id).status == "requested"
    assert last_event(old).envelope["payload"]["status"] == "expired"


def test_an_expired_order_whose_charge_was_already_tried_keeps_its_payment_for_the_retry(
    menu, client_for, customer
):
    order = place(client_for(customer), "tried")
    Payment.objects.filter(order_id=order.id).update(attempts=1)
    Order.objects.filter(id=order.id).update(created_at=timezone.now() - timedelta(minutes=31))

    orders_unpaid_expire_task.apply().get()

    order.refresh_from_db()
    assert order.status == "expired"
    assert Payment.objects.get(order_id=order.id).status == "requested"
    # The retry then finds it charged after all: recorded and refunded in full.
    payment = payment_charge(payment_id=Payment.objects.get(order_id=order.id).id)
    order.refresh_from_db()
    assert (order.status, order.payment_reference) == ("expired", payment.provider_reference)
    assert [r.amount for r in Refund.objects.filter(order_id=order.id)] == [500]


def test_stale_statuses_are_final():
    for status in ("rejected", "not_collected", "expired"):
        assert TRANSITIONS[status] == frozenset()
    assert settings.CELERY_BEAT_SCHEDULE["orders-sweep-unpaid"]["task"] == (
        "order_site.orders.tasks.orders_unpaid_expire_task"
    )
