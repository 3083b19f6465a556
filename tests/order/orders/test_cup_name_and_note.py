"""A name for the cup and a note for the barista (issue 17): stored with the order,
shown wherever the order is, and refused naming the field when bad, nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from order_site.orders.models import Order
from order_site.orders.serializers import _place_order_input_canonical, place_order_input
from tests.order.conftest import donut_line
from tests.order.orders.test_order_place import nothing_written, place

pytestmark = pytest.mark.django_db


def body(**extra: Any) -> dict[str, Any]:
    return {"payment_method": "pm_card_visa", "lines": [donut_line(1)], **extra}


def test_the_cup_name_and_note_are_kept_with_the_order_and_shown_everywhere(
    menu, client_for, customer, barista
):
    client = client_for(customer)

    placed = place(client, body(cup_name="  Sam ", note="Extra hot, please"))

    assert placed.status_code == 201
    assert (placed.json()["cup_name"], placed.json()["note"]) == ("Sam", "Extra hot, please")
    order = Order.objects.get(id=placed.json()["id"])
    assert (order.cup_name, order.note) == ("Sam", "Extra hot, please")
    mine = client.get("/api/orders/").json()
    assert (mine[0]["cup_name"], mine[0]["note"]) == ("Sam", "Extra hot, please")
    Order.objects.filter(id=order.id).update(status="placed")
    queue = client_for(barista).get("/api/orders/queue/?status=placed").json()
    card = queue["columns"][0]["results"][0]
    assert (card["cup_name"], card["note"]) == ("Sam", "Extra hot, please")


def test_without_them_an_order_has_empty_ones(menu, client_for, customer):
    placed = place(client_for(customer), body())

    assert (placed.json()["cup_name"], placed.json()["note"]) == ("", "")


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"cup_name": "S" * 21}, "cup_name", "Ensure this field has no more than 20 characters."),
        ({"note": "n" * 141}, "note", "Ensure this field has no more than 140 characters."),
        ({"cup_name": "Sam\nSmith"}, "cup_name", "No line breaks or control characters."),
        ({"note": "hot\x1b[31m"}, "note", "No line breaks or control characters."),
        ({"cup_name": None}, "cup_name", "This field may not be null."),
    ],
)
def test_a_bad_cup_name_or_note_is_refused_naming_it_and_nothing_is_written(
    menu, client_for, customer, extra, field, message
):
    before = nothing_written()

    response = place(client_for(customer), body(**extra))

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"] == {field: [message]}
    assert nothing_written() == before


def test_the_same_key_with_another_cup_name_is_another_request(menu, client_for, customer):
    client = client_for(customer)
    place(client, body(cup_name="Sam"))

    again = place(client, body(cup_name="Alex"))

    assert again.status_code == 422
    assert Order.objects.count() == 1


def test_an_order_placed_without_them_replays_with_the_same_key(menu, client_for, customer):
    client = client_for(customer)
    first = place(client, body())

    again = place(client, body(cup_name="", note=""))

    assert again.status_code == 201
    assert again.json() == first.json()


@pytest.mark.parametrize(
    "extra",
    [{"cup_name": "Sam"}, {"note": "Oat, not soy"}, {"cup_name": "Zoë", "note": "No lid"}],
)
def test_a_canonical_name_and_note_are_read_directly_as_drf_reads_them(extra):
    data = {"payment_method": "pm_card_visa", "lines": [{"product_id": 3, "quantity": 1}], **extra}

    direct = _place_order_input_canonical(data)

    assert direct is not None
    assert direct == place_order_input({**data, "lines": [{"product_id": 3, "quantity": 1}]})
    assert direct["cup_name"] == extra.get("cup_name", "")


@pytest.mark.parametrize("extra", [{"cup_name": " Sam"}, {"note": "x\ty"}, {"cup_name": "S" * 21}])
def test_anything_to_trim_or_refuse_is_left_to_drf(extra):
    data = {"payment_method": "pm_card_visa", "lines": [{"product_id": 3, "quantity": 1}], **extra}

    assert _place_order_input_canonical(data) is None
