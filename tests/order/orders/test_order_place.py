"""Placing an order: pricing from the menu, idempotency keys, and bad input refused."""

from __future__ import annotations

import json
from typing import Any

import pytest

from order_site.menu.models import Option
from order_site.orders.models import Order, OrderLine, OrderStatusChange
from order_site.outbox.models import OutboxEvent
from tests.order.conftest import CUSTOMER_ID, donut_line, latte_line, option, product, variation

pytestmark = pytest.mark.django_db


def place(client: Any, body: Any, key: str | None = "key-1", raw: bool = False) -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    if raw:
        return client.post("/api/orders/", body, content_type="application/json", **headers)
    return client.post("/api/orders/", body, format="json", **headers)


def nothing_written() -> tuple[int, int, int, int]:
    return (
        Order.objects.count(),
        OrderLine.objects.count(),
        OrderStatusChange.objects.count(),
        OutboxEvent.objects.count(),
    )


def test_placing_prices_each_line_from_the_menu(menu, client_for, customer):
    response = place(
        client_for(customer),
        {"payment_method": "pm_card_visa", "lines": [latte_line(2), donut_line(1)]},
    )

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "pending_payment"
    assert body["customer_id"] == CUSTOMER_ID
    assert body["currency"] == "GBP"
    assert [
        (line["unit_price"], line["quantity"], line["line_total"]) for line in body["lines"]
    ] == [
        (550, 2, 1100),
        (250, 1, 250),
    ]
    assert body["total"] == 1350
    assert body["lines"][0]["variation_name"] == "Vanilla"
    assert [(o["group"], o["name"], o["price_delta"]) for o in body["lines"][0]["options"]] == [
        ("Size", "Large", 80),
        ("Milk", "Oat", 40),
    ]
    assert response["Location"] == f"/api/orders/{body['id']}/"


def test_placing_records_the_first_status_and_the_placed_event(menu, client_for, customer):
    response = place(
        client_for(customer), {"payment_method": "pm_card_visa", "lines": [donut_line(3)]}
    )

    order = Order.objects.get(id=response.json()["id"])
    assert order.total == 750
    assert [(c.from_status, c.to_status, c.actor_id) for c in order.status_changes.all()] == [
        ("", "pending_payment", CUSTOMER_ID)
    ]
    event = OutboxEvent.objects.get()
    assert (event.topic, event.key, event.event_type) == (
        "coffeeshop.order-events",
        str(order.id),
        "order.placed",
    )
    assert event.envelope["payload"] == {
        "order_id": order.id,
        "customer_id": CUSTOMER_ID,
        "status": "pending_payment",
        "total": 750,
        "currency": "GBP",
        "lines": 1,
    }
    assert event.sent_at is None


def test_same_key_and_body_replays_the_same_answer_and_creates_one_order(
    menu, client_for, customer
):
    client = client_for(customer)
    first = place(client, {"payment_method": "pm_card_visa", "lines": [latte_line(1)]})
    Order.objects.filter(id=first.json()["id"]).update(status="placed")

    second = place(client, {"payment_method": "pm_card_visa", "lines": [latte_line(1)]})

    assert second.status_code == 201
    assert second.json() == first.json()
    assert second.json()["status"] == "pending_payment"
    assert second["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1
    assert OutboxEvent.objects.count() == 1


def test_same_key_with_another_body_is_refused_with_422(menu, client_for, customer):
    client = client_for(customer)
    place(client, {"payment_method": "pm_card_visa", "lines": [latte_line(1)]})
    before = nothing_written()

    response = place(client, {"payment_method": "pm_card_visa", "lines": [latte_line(2)]})

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"].endswith("/idempotency-key-reused")
    assert "Idempotency-Key" in response.json()["errors"]
    assert nothing_written() == before


def test_same_key_from_another_customer_is_a_different_order(
    menu, client_for, customer, other_customer
):
    place(client_for(customer), {"payment_method": "pm_card_visa", "lines": [donut_line(1)]})

    response = place(
        client_for(other_customer), {"payment_method": "pm_card_visa", "lines": [donut_line(2)]}
    )

    assert response.status_code == 201
    assert Order.objects.count() == 2


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        (None, "This header is required."),
        ("", "This header is required."),
        ("x" * 256, "At most 255 characters."),
        ("has space", "Only visible ASCII characters (no spaces, no accents)."),
        ("clé-1", "Only visible ASCII characters (no spaces, no accents)."),
    ],
)
def test_missing_or_malformed_idempotency_key_is_refused(menu, client_for, customer, key, problem):
    response = place(
        client_for(customer), {"payment_method": "pm_card_visa", "lines": [donut_line(1)]}, key=key
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"Idempotency-Key": [problem]}
    assert nothing_written() == (0, 0, 0, 0)


def test_malformed_json_is_refused_with_problem_details(menu, client_for, customer):
    response = place(
        client_for(customer), '{"payment_method": "pm_card_visa", "lines": [', raw=True
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["title"] == "Malformed request"
    assert nothing_written() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": -3}, "quantity"),
        ({"quantity": 21}, "quantity"),
        ({"quantity": 10**40}, "quantity"),
        ({"quantity": "two"}, "quantity"),
        ({"product_id": 10**30}, "product_id"),
        ({"option_ids": [0]}, "option_ids[0]"),
    ],
)
def test_bad_line_fields_are_refused_naming_the_field(menu, client_for, customer, changes, field):
    response = place(
        client_for(customer),
        {"payment_method": "pm_card_visa", "lines": [{**donut_line(1), **changes}]},
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [f"lines[0].{field}"]
    assert nothing_written() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    "body", [{}, {"payment_method": "pm_card_visa", "lines": []}, {"lines": "latte"}, [1, 2]]
)
def test_orders_without_lines_are_refused(menu, client_for, customer, body):
    response = place(client_for(customer), body)

    assert response.status_code == 400
    assert nothing_written() == (0, 0, 0, 0)


def menu_error(client: Any, line: dict[str, Any]) -> dict[str, Any]:
    response = place(client, {"payment_method": "pm_card_visa", "lines": [donut_line(1), line]})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert nothing_written() == (0, 0, 0, 0)
    errors: dict[str, Any] = response.json()["errors"]
    return errors


def test_unknown_product_is_named(menu, client_for, customer):
    errors = menu_error(client_for(customer), {"product_id": 999999, "quantity": 1})

    assert errors == {"lines[1].product_id": ["Unknown product 999999."]}


def test_unavailable_product_is_named(menu, client_for, customer):
    latte = product("Latte")
    latte.is_available = False
    latte.save()

    errors = menu_error(client_for(customer), latte_line(1))

    assert errors == {"lines[1].product_id": ["Latte is sold out."]}


def test_unavailable_option_is_named(menu, client_for, customer):
    Option.objects.filter(group__name="Milk", name="Oat").update(is_available=False)

    errors = menu_error(client_for(customer), latte_line(1))

    assert errors == {"lines[1].option_ids": ["Oat milk is sold out."]}


def test_option_of_another_product_is_refused(menu, client_for, customer):
    donut_with_milk = {**donut_line(1), "option_ids": [option("Milk", "Oat").id]}

    errors = menu_error(client_for(customer), donut_with_milk)

    assert errors == {"lines[1].option_ids": [f"Donuts has no option {option('Milk', 'Oat').id}."]}


def test_drink_without_a_size_is_refused(menu, client_for, customer):
    errors = menu_error(client_for(customer), {**latte_line(1), "option_ids": []})

    assert errors == {"lines[1].option_ids": ["Choose exactly 1 Size."]}


def test_two_milks_are_refused(menu, client_for, customer):
    line = {
        **latte_line(1),
        "option_ids": [
            option("Size", "Small").id,
            option("Milk", "Oat").id,
            option("Milk", "Soy").id,
        ],
    }

    errors = menu_error(client_for(customer), line)

    assert errors == {"lines[1].option_ids": ["Choose 0 to 1 Milk."]}


def test_variation_of_another_product_and_missing_required_variation_are_named(
    menu, client_for, customer
):
    foreign = {**donut_line(1), "variation_id": variation("Latte", "Vanilla").id}
    missing = {
        "product_id": product("Espresso").id,
        "quantity": 1,
        "option_ids": [option("Size", "Small").id],
    }

    response = place(
        client_for(customer), {"payment_method": "pm_card_visa", "lines": [foreign, missing]}
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "lines[0].variation_id": [f"Donuts has no variation {variation('Latte', 'Vanilla').id}."],
        "lines[1].variation_id": ["Choose one of: Single, Double."],
    }
    assert nothing_written() == (0, 0, 0, 0)


def test_plain_latte_needs_no_flavour(menu, client_for, customer):
    line = {
        "product_id": product("Latte").id,
        "quantity": 1,
        "option_ids": [option("Size", "Medium").id],
    }

    response = place(client_for(customer), {"payment_method": "pm_card_visa", "lines": [line]})

    assert response.status_code == 201
    assert response.json()["total"] == 440


def test_anonymous_placement_is_401_and_writes_nothing(menu, client_for):
    response = place(client_for(None), {"payment_method": "pm_card_visa", "lines": [donut_line(1)]})

    assert response.status_code == 401
    assert nothing_written() == (0, 0, 0, 0)


def test_stored_response_is_plain_json(menu, client_for, customer):
    response = place(
        client_for(customer), {"payment_method": "pm_card_visa", "lines": [donut_line(1)]}
    )

    stored = Order.objects.get().response_body
    assert json.loads(json.dumps(stored)) == response.json()
