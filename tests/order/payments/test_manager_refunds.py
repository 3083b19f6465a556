"""A manager refunds all or part of an order with a reason (issue 11): `POST
/api/orders/<id>/refunds/` with an Idempotency-Key, through the payments service and the
real sandbox provider. Refunds together never exceed the charge."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from order_site.order_payments.refunds import payment_refund
from order_site.orders.models import Order
from order_site.outbox.models import OutboxEvent
from order_site.payments.models import Payment, Refund
from tests.order.conftest import BARISTA_ID, MANAGER_ID, donut_line, pay

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(menu: None, client_for: Any, customer: Any) -> Order:
    """A paid order of the customer: 2 Boston Cream donuts, £5.00."""
    response = client_for(customer).post(
        "/api/orders/",
        {"payment_method": "pm_card_visa", "lines": [donut_line(2)]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="refunds",
    )
    pay(response.json()["id"])
    return Order.objects.get(id=response.json()["id"])


def refund(client: Any, order: Order, body: Any, key: str | None = "k1") -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(f"/api/orders/{order.id}/refunds/", body, format="json", **headers)


def refunded_events(order: Order) -> list[dict[str, Any]]:
    return [
        {k: e.envelope["payload"][k] for k in ("amount", "refunded_total", "full", "reason")}
        for e in OutboxEvent.objects.filter(
            key=str(order.id), event_type="order.refunded"
        ).order_by("id")
    ]


def at_provider(api: httpx.Client, order: Order) -> list[int]:
    payment = Payment.objects.get(order_id=order.id)
    found = api.get("/v1/refunds", params={"payment_intent": payment.provider_reference})
    return sorted(r["amount"] for r in found.json()["data"])


def written(order: Order) -> tuple[Any, ...]:
    payment = Payment.objects.get(order_id=order.id)
    return (
        Refund.objects.filter(order_id=order.id).count(),
        payment.refunded_amount,
        OutboxEvent.objects.filter(key=str(order.id)).count(),
    )


def test_a_part_refund_is_refunded_once_with_its_reason_and_the_order_stays_unrefunded(
    paid: Order, client_for: Any, manager: Any, provider_api: httpx.Client
) -> None:
    client = client_for(manager)

    first = refund(client, paid, {"amount": 150, "reason": "Latte was cold"})
    again = refund(client, paid, {"amount": 150, "reason": "Latte was cold"})
    done = payment_refund(refund_id=first.json()["refund_id"])

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["refund_id"] == first.json()["refund_id"]
    assert (done.status, done.amount, done.reason, done.requested_by) == (
        "succeeded",
        150,
        "Latte was cold",
        MANAGER_ID,
    )
    assert at_provider(provider_api, paid) == [150]
    assert refunded_events(paid) == [
        {"amount": 150, "refunded_total": 150, "full": False, "reason": "Latte was cold"}
    ]
    paid.refresh_from_db()
    assert (paid.refund_reference, paid.refunded_at) == ("", None)
    answer = first.json()
    assert answer["payment"]["amount"] == 500
    assert answer["payment"]["refundable"] == 350
    assert [(r["amount"], r["reason"], r["requested_by"]["id"]) for r in answer["refunds"]] == [
        (150, "Latte was cold", MANAGER_ID)
    ]


def test_part_refunds_reaching_the_total_mark_the_order_refunded_once(
    paid: Order, client_for: Any, manager: Any, provider_api: httpx.Client
) -> None:
    client = client_for(manager)
    one = refund(client, paid, {"amount": 200, "reason": "Spilt"}, key="a")
    payment_refund(refund_id=one.json()["refund_id"])

    rest = refund(client, paid, {"amount": 300, "reason": "Left unhappy"}, key="b")
    payment_refund(refund_id=rest.json()["refund_id"])

    assert at_provider(provider_api, paid) == [200, 300]
    assert refunded_events(paid) == [
        {"amount": 200, "refunded_total": 200, "full": False, "reason": "Spilt"},
        {"amount": 300, "refunded_total": 500, "full": True, "reason": "Left unhappy"},
    ]
    paid.refresh_from_db()
    assert paid.refund_reference.startswith("re_")
    assert Payment.objects.get(order_id=paid.id).refunded_amount == 500


def test_a_refund_beyond_what_is_left_is_400_naming_the_amount_and_writes_nothing(
    paid: Order, client_for: Any, manager: Any
) -> None:
    client = client_for(manager)
    refund(client, paid, {"amount": 400, "reason": "Spilt"}, key="a")
    before = written(paid)

    response = refund(client, paid, {"amount": 101, "reason": "More"}, key="b")

    assert response.status_code == 400
    assert response.json()["errors"] == {"amount": ["Must be between 1 and 100."]}
    assert written(paid) == before


def test_an_order_refunded_in_full_refuses_another_refund_with_409(
    paid: Order, client_for: Any, manager: Any
) -> None:
    client = client_for(manager)
    refund(client, paid, {"amount": 500, "reason": "All wrong"}, key="a")
    before = written(paid)

    response = refund(client, paid, {"amount": 1, "reason": "More"}, key="b")

    assert response.status_code == 409
    assert response.json()["errors"] == {"amount": ["Nothing is left to refund."]}
    assert written(paid) == before


def test_the_same_key_with_another_body_is_422_and_writes_nothing(
    paid: Order, client_for: Any, manager: Any
) -> None:
    client = client_for(manager)
    refund(client, paid, {"amount": 100, "reason": "Spilt"})
    before = written(paid)

    response = refund(client, paid, {"amount": 120, "reason": "Spilt"})

    assert response.status_code == 422
    assert response.json()["errors"] == {
        "Idempotency-Key": ["Already used with a different request body."]
    }
    assert written(paid) == before


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"amount": 0, "reason": "x"}, ["amount"]),
        ({"amount": "100", "reason": "x"}, ["amount"]),
        ({"amount": True, "reason": "x"}, ["amount"]),
        ({"amount": 100}, ["reason"]),
        ({"amount": 100, "reason": "   "}, ["reason"]),
        ({"amount": 100, "reason": "x" * 201}, ["reason"]),
        ({}, ["amount", "reason"]),
        ([1, 2], ["amount", "reason"]),
    ],
)
def test_bad_refund_input_is_400_naming_each_field_and_writes_nothing(
    paid: Order, client_for: Any, manager: Any, body: Any, fields: list[str]
) -> None:
    before = written(paid)

    response = refund(client_for(manager), paid, body)

    assert response.status_code == 400
    assert sorted(response.json()["errors"]) == fields
    assert written(paid) == before


def test_a_refund_without_an_idempotency_key_is_400_naming_the_header(
    paid: Order, client_for: Any, manager: Any
) -> None:
    before = written(paid)

    response = refund(client_for(manager), paid, {"amount": 100, "reason": "x"}, key=None)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["Idempotency-Key"]
    assert written(paid) == before


def test_baristas_and_customers_cannot_refund(
    paid: Order, client_for: Any, barista: Any, customer: Any
) -> None:
    before = written(paid)

    answers = [
        refund(client_for(who), paid, {"amount": 100, "reason": "x"}).status_code
        for who in (barista, customer)
    ]

    assert answers == [403, 403]
    assert written(paid) == before


def test_a_refund_of_an_unpaid_order_is_409(
    menu: None, client_for: Any, customer: Any, manager: Any
) -> None:
    placed = client_for(customer).post(
        "/api/orders/",
        {"payment_method": "pm_card_visa", "lines": [donut_line(1)]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="unpaid",
    )
    order = Order.objects.get(id=placed.json()["id"])

    response = refund(client_for(manager), order, {"amount": 100, "reason": "x"})

    assert response.status_code == 409
    assert Refund.objects.count() == 0


def test_a_reject_after_a_part_refund_refunds_what_is_left(
    paid: Order, client_for: Any, manager: Any, barista: Any, provider_api: httpx.Client
) -> None:
    part = refund(client_for(manager), paid, {"amount": 150, "reason": "Cold"})
    payment_refund(refund_id=part.json()["refund_id"])

    rejected = client_for(barista).post(
        f"/api/orders/{paid.id}/reject/", {"reason": "Out of oat milk"}, format="json"
    )
    rest = Refund.objects.get(order_id=paid.id, idempotency_key=f"order-{paid.id}-refund")
    payment_refund(refund_id=rest.id)

    assert rejected.status_code == 200
    assert (rest.amount, rest.reason, rest.requested_by) == (350, "Out of oat milk", BARISTA_ID)
    assert at_provider(provider_api, paid) == [150, 350]
    paid.refresh_from_db()
    assert paid.refund_reference.startswith("re_")


def test_the_database_refuses_refunds_beyond_the_charge(paid: Order) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Payment.objects.filter(order_id=paid.id).update(refunded_amount=501)


def test_a_managers_view_of_an_order_shows_payment_refunds_and_who_did_what(
    paid: Order, client_for: Any, manager: Any, barista: Any
) -> None:
    from order_site.users.models import Customer

    now = timezone.now()
    Customer.objects.create(id=MANAGER_ID, email="m@x.test", name="Mo", source_event_at=now)
    client_for(barista).post(
        f"/api/orders/{paid.id}/advance/", {"status": "in_preparation"}, format="json"
    )
    refund(client_for(manager), paid, {"amount": 50, "reason": "Slow"})

    response = client_for(manager).get(f"/api/orders/{paid.id}/manage/")

    assert response.status_code == 200
    body = response.json()
    assert body["payment"] == {
        "amount": 500,
        "currency": "GBP",
        "status": "succeeded",
        "card_brand": "visa",
        "card_last4": "4242",
        "refunded_amount": 0,
        "refundable": 450,
    }
    assert [(h["to_status"], h["actor"], h["note"]) for h in body["history"]] == [
        ("pending_payment", {"id": paid.customer_id, "name": "", "email": ""}, ""),
        ("placed", None, "payment captured"),
        ("in_preparation", {"id": BARISTA_ID, "name": "", "email": ""}, ""),
    ]
    assert [
        (r["amount"], r["status"], r["reason"], r["requested_by"]) for r in body["refunds"]
    ] == [(50, "requested", "Slow", {"id": MANAGER_ID, "name": "Mo", "email": "m@x.test"})]
    assert client_for(barista).get(f"/api/orders/{paid.id}/manage/").status_code == 403
