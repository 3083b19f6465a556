"""A manager finds any order (issue 11): `GET /api/orders/search/` by pickup number,
customer e-mail (exact, any case, through Order's copy of users) or the shop's day;
newest first, in keyset pages."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from order_site.orders.models import Order
from tests.order.conftest import CUSTOMER_ID, OTHER_CUSTOMER_ID, donut_line, pay
from tests.order.factories.users import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders(menu: None, client_for: Any, customer: Any, other_customer: Any) -> list[Order]:
    """Three paid orders: two of Ada (ada@x.test), one of Bo; oldest first."""
    CustomerFactory(id=CUSTOMER_ID, email="Ada@X.test", name="Ada")
    CustomerFactory(id=OTHER_CUSTOMER_ID, email="bo@x.test", name="Bo")
    made = []
    for who, key in ((customer, "1"), (other_customer, "2"), (customer, "3")):
        response = client_for(who).post(
            "/api/orders/",
            {"payment_method": "pm_card_visa", "lines": [donut_line(1)]},
            format="json",
            HTTP_IDEMPOTENCY_KEY=key,
        )
        pay(response.json()["id"])
        made.append(Order.objects.get(id=response.json()["id"]))
    return made


def search(client: Any, **query: Any) -> Any:
    return client.get("/api/orders/search/", query)


def ids(response: Any) -> list[int]:
    return [o["id"] for o in response.json()["results"]]


def test_a_manager_finds_a_customers_orders_by_email_in_any_case_newest_first(
    orders: list[Order], client_for: Any, manager: Any
) -> None:
    response = search(client_for(manager), email="ada@x.TEST")

    assert response.status_code == 200
    assert ids(response) == [orders[2].id, orders[0].id]
    first = response.json()["results"][0]
    assert first["customer"] == {"id": CUSTOMER_ID, "name": "Ada", "email": "Ada@X.test"}
    assert (first["payment"]["card_brand"], first["payment"]["card_last4"]) == ("visa", "4242")


def test_a_manager_finds_an_order_by_its_pickup_number_as_typed(
    orders: list[Order], client_for: Any, manager: Any
) -> None:
    number = orders[1].number  # "A-002"

    found = [
        ids(search(client_for(manager), number=typed))
        for typed in (number, number.lower(), number.replace("-", "").replace("00", "0"))
    ]

    assert found == [[orders[1].id]] * 3


def test_a_search_by_day_finds_that_shop_days_orders_only(
    orders: list[Order], client_for: Any, manager: Any
) -> None:
    today = timezone.localdate()
    Order.objects.filter(id=orders[0].id).update(created_at=timezone.now() - timedelta(days=1))

    on_today = search(client_for(manager), date=today.isoformat())
    yesterday = search(client_for(manager), date=(today - timedelta(days=1)).isoformat())
    long_ago = search(client_for(manager), date=date(2020, 1, 1).isoformat())

    assert ids(on_today) == [orders[2].id, orders[1].id]
    assert ids(yesterday) == [orders[0].id]
    assert ids(long_ago) == []


def test_search_pages_follow_the_cursor_without_gaps_or_repeats(
    orders: list[Order], client_for: Any, manager: Any
) -> None:
    client = client_for(manager)

    first = search(client, limit=2)
    second = search(client, limit=2, cursor=first.json()["next_cursor"])

    assert ids(first) == [orders[2].id, orders[1].id]
    assert ids(second) == [orders[0].id]
    assert second.json()["next_cursor"] is None


def test_an_unknown_email_finds_nothing(orders: list[Order], client_for: Any, manager: Any) -> None:
    response = search(client_for(manager), email="nobody@x.test")

    assert (response.status_code, response.json()) == (200, {"results": [], "next_cursor": None})


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"date": "2026-13-01"}, "date"),
        ({"number": "42; drop"}, "number"),
        ({"limit": "0"}, "limit"),
        ({"cursor": "nope"}, "cursor"),
    ],
)
def test_a_bad_search_is_400_naming_the_field(
    orders: list[Order], client_for: Any, manager: Any, query: dict[str, str], field: str
) -> None:
    response = search(client_for(manager), **query)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


def test_only_managers_may_search(
    orders: list[Order], client_for: Any, barista: Any, customer: Any
) -> None:
    answers = [
        search(client_for(who), email="ada@x.test").status_code for who in (barista, customer)
    ]

    assert answers == [403, 403]
