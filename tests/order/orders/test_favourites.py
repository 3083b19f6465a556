"""A customer's favourites ("my usual", issue 17): saved drinks checked against the
menu, one per drink, at most FAVOURITES_MAX, each customer seeing only their own."""

from __future__ import annotations

from typing import Any

import pytest

from order_site.menu.models import Option
from order_site.orders.models import FAVOURITES_MAX, Favourite
from tests.order.conftest import CUSTOMER_ID, OTHER_CUSTOMER_ID, latte_line, option, product

pytestmark = pytest.mark.django_db

URL = "/api/orders/favourites/"


def usual(**changes: Any) -> dict[str, Any]:
    """The Vanilla Latte, Large, Oat of conftest's `latte_line`, without a quantity."""
    line = latte_line()
    del line["quantity"]
    return {**line, "name": "My usual", **changes}


def save(client: Any, body: Any) -> Any:
    return client.post(URL, body, format="json")


def test_a_saved_drink_is_listed_for_its_customer_only(menu, client_for, customer, other_customer):
    mine = client_for(customer)

    saved = save(mine, usual(option_ids=list(reversed(usual()["option_ids"]))))

    assert saved.status_code == 201
    body = saved.json()
    assert (body["name"], body["product_id"], body["variation_id"]) == (
        "My usual",
        usual()["product_id"],
        usual()["variation_id"],
    )
    assert body["option_ids"] == sorted(usual()["option_ids"])
    assert [f["id"] for f in mine.get(URL).json()] == [body["id"]]
    assert client_for(other_customer).get(URL).json() == []
    assert Favourite.objects.get().customer_id == CUSTOMER_ID


def test_the_same_drink_saved_again_is_one_favourite_renamed(menu, client_for, customer):
    client = client_for(customer)
    first = save(client, usual()).json()

    again = save(client, usual(name="Monday"))

    assert again.status_code == 200
    assert again.json()["id"] == first["id"]
    assert again.json()["name"] == "Monday"
    assert Favourite.objects.count() == 1


def test_a_sold_out_choice_may_be_saved(menu, client_for, customer):
    Option.objects.filter(id=option("Milk", "Oat").id).update(is_available=False)

    response = save(client_for(customer), usual())

    assert response.status_code == 201


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"product_id": 999_999}, "product_id", "Unknown product 999999."),
        ({"option_ids": []}, "option_ids", "Choose exactly 1 Size."),
        ({"variation_id": 999_999}, "variation_id", "Latte has no variation 999999."),
        ({"name": "x" * 41}, "name", "Ensure this field has no more than 40 characters."),
        ({"name": "a\nb"}, "name", "No line breaks or control characters."),
        ({"product_id": "3"}, "product_id", "A valid integer is required."),
        ({"option_ids": [0]}, "option_ids[0]", "Ensure this value is greater than or equal to 1."),
    ],
)
def test_a_drink_the_menu_does_not_offer_is_refused_naming_the_field(
    menu, client_for, customer, changes, field, message
):
    response = save(client_for(customer), usual(**changes))

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][field] == [message]
    assert Favourite.objects.count() == 0


def test_a_body_that_is_not_an_object_is_refused(menu, client_for, customer):
    response = save(client_for(customer), [usual()])

    assert response.status_code == 400
    assert Favourite.objects.count() == 0


def test_past_the_most_favourites_a_new_one_is_refused_and_nothing_is_written(
    menu, client_for, customer
):
    for index in range(FAVOURITES_MAX):
        Favourite.objects.create(
            customer_id=CUSTOMER_ID, product=product("Latte"), option_ids=[index + 10**6]
        )

    response = save(client_for(customer), usual())

    assert response.status_code == 409
    assert response.json()["type"].endswith("/too-many-favourites")
    assert Favourite.objects.count() == FAVOURITES_MAX


def test_a_customer_removes_their_own_favourite(menu, client_for, customer):
    client = client_for(customer)
    saved = save(client, usual()).json()

    response = client.delete(f"{URL}{saved['id']}/")

    assert response.status_code == 204
    assert client.get(URL).json() == []


def test_another_customers_favourite_is_not_found_and_stays(
    menu, client_for, customer, other_customer
):
    theirs = save(client_for(other_customer), usual()).json()

    response = client_for(customer).delete(f"{URL}{theirs['id']}/")

    assert response.status_code == 404
    assert Favourite.objects.get().customer_id == OTHER_CUSTOMER_ID


def test_favourites_need_a_caller(menu, client_for):
    assert client_for(None).get(URL).status_code == 401
    assert save(client_for(None), usual()).status_code == 401
    assert Favourite.objects.count() == 0
