"""The order lifecycle: only legal transitions, each recorded with who and when."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from order_site.order_payments.charges import payment_charge
from order_site.orders import services
from order_site.orders.models import Order, OrderStatusChange
from order_site.outbox.models import OutboxEvent
from order_site.payments.models import Payment, Refund
from tests.order.conftest import BARISTA_ID, CUSTOMER_ID, MANAGER_ID, donut_line, pay

pytestmark = pytest.mark.django_db


@pytest.fixture
def placed_order(menu, client_for, customer) -> Order:
    """A paid order of the customer: 2 Boston Cream donuts, £5.00."""
    response = client_for(customer).post(
        "/api/orders/",
        {"payment_method": "pm_card_visa", "lines": [donut_line(2)]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    pay(response.json()["id"])
    return Order.objects.get(id=response.json()["id"])


@pytest.fixture
def pending_order(menu, client_for, customer) -> Order:
    response = client_for(customer).post(
        "/api/orders/",
        {"payment_method": "pm_card_visa", "lines": [donut_line(1)]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="p",
    )
    return Order.objects.get(id=response.json()["id"])


def snapshot(order: Order) -> tuple[Any, ...]:
    order.refresh_from_db()
    return (
        order.status,
        order.updated_at,
        order.status_changes.count(),
        OutboxEvent.objects.count(),
    )


def advance(client: Any, order: Order, status: str) -> Any:
    return client.post(f"/api/orders/{order.id}/advance/", {"status": status}, format="json")


def test_barista_advances_a_paid_order_to_collected_and_every_step_is_recorded(
    placed_order, client_for, barista
):
    client = client_for(barista)

    statuses = [
        advance(client, placed_order, step).json()["status"]
        for step in ("in_preparation", "ready", "collected")
    ]

    assert statuses == ["in_preparation", "ready", "collected"]
    history = [
        (c.from_status, c.to_status, c.actor_id)
        for c in OrderStatusChange.objects.filter(order=placed_order)
    ]
    assert history == [
        ("", "pending_payment", CUSTOMER_ID),
        ("pending_payment", "placed", None),
        ("placed", "in_preparation", BARISTA_ID),
        ("in_preparation", "ready", BARISTA_ID),
        ("ready", "collected", BARISTA_ID),
    ]
    events = OutboxEvent.objects.filter(key=str(placed_order.id)).order_by("id")
    assert [e.event_type for e in events] == [
        "order.placed",
        "order.paid",
        "order.status_changed",
        "order.status_changed",
        "order.status_changed",
    ]
    assert events.last().envelope["payload"]["to_status"] == "collected"


@pytest.mark.parametrize(
    ("start", "target"),
    [
        ([], "ready"),
        ([], "collected"),
        (["in_preparation"], "in_preparation"),
        (["in_preparation", "ready"], "in_preparation"),
        (["in_preparation", "ready", "collected"], "ready"),
    ],
)
def test_illegal_advance_is_409_and_changes_nothing(
    placed_order, client_for, barista, start, target
):
    client = client_for(barista)
    for step in start:
        advance(client, placed_order, step)
    before = snapshot(placed_order)

    response = advance(client, placed_order, target)

    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"].endswith("/illegal-transition")
    assert response.json()["requested_status"] == target
    assert snapshot(placed_order) == before


def test_unpaid_order_cannot_enter_the_queue(pending_order, client_for, barista):
    before = snapshot(pending_order)

    response = advance(client_for(barista), pending_order, "in_preparation")

    assert response.status_code == 409
    assert response.json()["current_status"] == "pending_payment"
    assert snapshot(pending_order) == before


def test_customer_cannot_advance_orders(placed_order, client_for, customer):
    before = snapshot(placed_order)

    response = advance(client_for(customer), placed_order, "in_preparation")

    assert response.status_code == 403
    assert snapshot(placed_order) == before


def test_unknown_advance_target_is_400_naming_status(placed_order, client_for, barista):
    response = advance(client_for(barista), placed_order, "cancelled")

    assert response.status_code == 400
    assert "status" in response.json()["errors"]


def test_customer_cancels_an_unpaid_order(pending_order, client_for, customer):
    response = client_for(customer).post(
        f"/api/orders/{pending_order.id}/cancel/", {"reason": "changed my mind"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    change = OrderStatusChange.objects.filter(order=pending_order).last()
    assert (change.from_status, change.to_status, change.actor_id, change.note) == (
        "pending_payment",
        "cancelled",
        CUSTOMER_ID,
        "changed my mind",
    )
    event = OutboxEvent.objects.order_by("id").last()
    assert event.event_type == "order.cancelled"
    assert event.envelope["payload"]["refund_requested"] is False


def test_a_paid_order_tells_its_customer_until_when_it_can_be_cancelled(
    placed_order, client_for, customer
):
    shown = client_for(customer).get(f"/api/orders/{placed_order.id}/").json()

    until = placed_order.paid_at + timedelta(seconds=120)
    assert shown["cancellable_until"] == until.isoformat().replace("+00:00", "Z")


def test_customer_cancels_a_paid_order_within_the_window_and_a_refund_is_requested(
    placed_order, client_for, customer
):
    response = client_for(customer).post(
        f"/api/orders/{placed_order.id}/cancel/", {}, format="json"
    )

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["cancellable_until"]) == (
        "cancelled",
        None,
    )
    event = OutboxEvent.objects.order_by("id").last()
    assert event.event_type == "order.cancelled"
    assert event.envelope["payload"]["refund_requested"] is True
    assert [
        (r.amount, r.idempotency_key) for r in Refund.objects.filter(order_id=placed_order.id)
    ] == [(500, f"order-{placed_order.id}-refund")]


def test_customer_cancel_after_the_window_is_409_saying_ask_at_the_counter(
    placed_order, client_for, customer
):
    Order.objects.filter(id=placed_order.id).update(paid_at=timezone.now() - timedelta(seconds=121))
    before = snapshot(placed_order)

    response = client_for(customer).post(
        f"/api/orders/{placed_order.id}/cancel/", {}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["detail"] == (
        "A paid order can be cancelled here for 2 minutes after paying; that time has "
        "passed. Please ask at the counter."
    )
    assert snapshot(placed_order) == before
    assert not Refund.objects.filter(order_id=placed_order.id).exists()


def test_the_cancel_window_is_a_setting(placed_order, client_for, customer, settings):
    settings.ORDER_CANCEL_WINDOW_SECONDS = 5
    Order.objects.filter(id=placed_order.id).update(paid_at=timezone.now() - timedelta(seconds=6))

    response = client_for(customer).post(
        f"/api/orders/{placed_order.id}/cancel/", {}, format="json"
    )

    assert response.status_code == 409
    assert "for 5 seconds after paying" in response.json()["detail"]


def test_customer_cannot_cancel_once_a_barista_started_the_order(
    placed_order, client_for, customer, barista
):
    advance(client_for(barista), placed_order, "in_preparation")
    before = snapshot(placed_order)

    response = client_for(customer).post(
        f"/api/orders/{placed_order.id}/cancel/", {}, format="json"
    )

    assert response.status_code == 409
    assert "ask at the counter" in response.json()["detail"]
    assert snapshot(placed_order) == before
    assert (
        client_for(customer).get(f"/api/orders/{placed_order.id}/").json()["cancellable_until"]
        is None
    )


def test_cancelling_a_cancelled_order_again_is_409_and_requests_no_second_refund(
    placed_order, client_for, customer
):
    client = client_for(customer)
    first = client.post(f"/api/orders/{placed_order.id}/cancel/", {}, format="json")
    before = snapshot(placed_order)

    again = client.post(f"/api/orders/{placed_order.id}/cancel/", {}, format="json")

    assert (first.status_code, again.status_code) == (200, 409)
    assert snapshot(placed_order) == before
    assert Refund.objects.filter(order_id=placed_order.id).count() == 1


def test_manager_cancels_a_paid_order_and_a_refund_is_requested(placed_order, client_for, manager):
    response = client_for(manager).post(f"/api/orders/{placed_order.id}/cancel/", {}, format="json")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    event = OutboxEvent.objects.order_by("id").last()
    assert event.event_type == "order.cancelled"
    assert event.envelope["payload"]["refund_requested"] is True
    assert event.envelope["payload"]["actor_id"] == MANAGER_ID


def test_order_in_preparation_cannot_be_cancelled(placed_order, client_for, barista, manager):
    advance(client_for(barista), placed_order, "in_preparation")
    before = snapshot(placed_order)

    response = client_for(manager).post(f"/api/orders/{placed_order.id}/cancel/", {}, format="json")

    assert response.status_code == 409
    assert snapshot(placed_order) == before


def test_another_customers_order_is_not_found_for_reading_or_cancelling(
    pending_order, client_for, other_customer
):
    client = client_for(other_customer)
    before = snapshot(pending_order)

    read = client.get(f"/api/orders/{pending_order.id}/")
    cancel = client.post(f"/api/orders/{pending_order.id}/cancel/", {}, format="json")

    assert (read.status_code, cancel.status_code) == (404, 404)
    assert snapshot(pending_order) == before


def test_customer_lists_only_their_own_orders(menu, client_for, customer, other_customer):
    for key, who in (("a", customer), ("b", other_customer), ("c", customer)):
        client_for(who).post(
            "/api/orders/",
            {"payment_method": "pm_card_visa", "lines": [donut_line(1)]},
            format="json",
            HTTP_IDEMPOTENCY_KEY=key,
        )

    response = client_for(customer).get("/api/orders/")

    assert response.status_code == 200
    assert [o["customer_id"] for o in response.json()] == [CUSTOMER_ID, CUSTOMER_ID]


def test_staff_queue_lists_paid_orders_oldest_first(menu, client_for, customer, barista):
    ids = []
    for key in ("q1", "q2", "q3", "q4"):
        response = client_for(customer).post(
            "/api/orders/",
            {"payment_method": "pm_card_visa", "lines": [donut_line(1)]},
            format="json",
            HTTP_IDEMPOTENCY_KEY=key,
        )
        ids.append(response.json()["id"])
    for order_id in ids[:3]:
        services.order_mark_paid(order_id=order_id, payment_reference=f"pi_{order_id}")
    advance(client_for(barista), Order.objects.get(id=ids[0]), "in_preparation")

    queue = client_for(barista).get("/api/orders/queue/")
    forbidden = client_for(customer).get("/api/orders/queue/")

    columns = {c["status"]: [o["id"] for o in c["results"]] for c in queue.json()["columns"]}
    assert columns == {"placed": ids[1:3], "in_preparation": ids[:1], "ready": []}
    assert forbidden.status_code == 403


def test_payment_outcomes_are_idempotent(pending_order):
    services.order_mark_paid(order_id=pending_order.id, payment_reference="pi_1")
    services.order_mark_paid(order_id=pending_order.id, payment_reference="pi_2")
    failed = services.order_mark_payment_failed(order_id=pending_order.id, reason="declined")
    services.order_mark_refunded(order_id=pending_order.id, refund_reference="re_1")
    refunded = services.order_mark_refunded(order_id=pending_order.id, refund_reference="re_2")

    assert failed.status == "placed"
    assert (refunded.payment_reference, refunded.refund_reference) == ("pi_1", "re_1")
    assert [e.event_type for e in OutboxEvent.objects.order_by("id")] == [
        "order.placed",
        "order.paid",
        "order.refunded",
    ]


def test_failed_payment_ends_the_order(pending_order, client_for, customer):
    order = services.order_mark_payment_failed(order_id=pending_order.id, reason="card declined")
    again = services.order_mark_payment_failed(order_id=pending_order.id, reason="again")
    late_success = services.order_mark_paid(order_id=pending_order.id, payment_reference="pi_9")

    assert (order.status, again.status, late_success.status) == ("payment_failed",) * 3
    shown = client_for(customer).get(f"/api/orders/{order.id}/").json()
    assert (shown["status"], shown["failure_reason"]) == ("payment_failed", "card declined")
    assert [e.event_type for e in OutboxEvent.objects.order_by("id")] == [
        "order.placed",
        "order.payment_failed",
    ]


def test_payment_landing_after_cancellation_is_recorded_and_the_order_stays_cancelled(
    pending_order, client_for, customer
):
    client_for(customer).post(f"/api/orders/{pending_order.id}/cancel/", {}, format="json")

    # A charge whose first answer was lost, repeated after the cancel (with its key).
    Payment.objects.filter(order_id=pending_order.id).update(attempts=1)
    payment = payment_charge(payment_id=Payment.objects.get(order_id=pending_order.id).id)

    pending_order.refresh_from_db()
    assert payment.status == "succeeded"
    assert pending_order.status == "cancelled"
    assert pending_order.payment_reference == payment.provider_reference
    assert [r.amount for r in Refund.objects.filter(order_id=pending_order.id)] == [
        pending_order.total
    ]
    assert [e.event_type for e in OutboxEvent.objects.order_by("id")] == [
        "order.placed",
        "order.cancelled",
    ]
