"""The per-process copy of the menu that placements price from: no query while current,
read again after any menu write (here or, through the Redis version, elsewhere)."""

from __future__ import annotations

import uuid

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from order_site.menu import services as menu_services
from order_site.menu.models import Option
from order_site.menu.selectors import PRICING_VERSION_KEY, pricing_menu, pricing_menu_forget
from order_site.orders.models import Order
from tests.order.conftest import donut_line, latte_line, option, product

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_copy():
    pricing_menu_forget()
    yield
    pricing_menu_forget()


def test_a_current_copy_prices_without_a_query(menu):
    ids = {product("Latte").id}
    pricing_menu(product_ids=ids, option_ids=set())

    with CaptureQueriesContext(connection) as queries:
        again = pricing_menu(product_ids=ids, option_ids=set())

    assert len(queries) == 0
    assert again.products[product("Latte").id].base_price == 400


def test_a_price_change_through_the_service_is_priced_at_once(menu, client_for, customer):
    client = client_for(customer)
    client.post(
        "/api/orders/",
        {"payment_method": "pm_card_visa", "lines": [donut_line(1)]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="a",
    )

    menu_services.product_update(product_id=product("Donuts").id, changes={"base_price": 300})
    response = client.post(
        "/api/orders/",
        {"payment_method": "pm_card_visa", "lines": [donut_line(1)]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="b",
    )

    assert response.status_code == 201
    assert response.json()["total"] == 350
    assert Order.objects.get(id=response.json()["id"]).total == 350


def test_a_new_version_from_another_process_is_not_looked_up_within_the_check_interval(menu):
    ids = {product("Latte").id}
    pricing_menu(product_ids=ids, option_ids=set())
    cache.set(PRICING_VERSION_KEY, f"changed-elsewhere-{uuid.uuid4()}", None)

    with CaptureQueriesContext(connection) as queries:
        pricing_menu(product_ids=ids, option_ids=set())

    assert len(queries) == 0  # MENU_PRICING_VERSION_CHECK_SECONDS (1 s) not over yet


def test_a_new_version_from_another_process_makes_the_copy_read_again(menu, settings):
    settings.MENU_PRICING_VERSION_CHECK_SECONDS = 0
    ids = {product("Latte").id}
    pricing_menu(product_ids=ids, option_ids=set())
    cache.set(PRICING_VERSION_KEY, f"changed-elsewhere-{uuid.uuid4()}", None)

    with CaptureQueriesContext(connection) as queries:
        pricing_menu(product_ids=ids, option_ids=set())

    assert len(queries) == 4  # products, their variations and option groups, options


def test_an_id_missing_from_the_copy_makes_it_read_again(menu, client_for, customer):
    pricing_menu(product_ids={product("Donuts").id}, option_ids=set())

    response = client_for(customer).post(
        "/api/orders/",
        {"payment_method": "pm_card_visa", "lines": [{**latte_line(1), "product_id": 10**12}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="c",
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"lines[0].product_id": ["Unknown product 1000000000000."]}


def test_an_option_back_on_sale_elsewhere_is_not_refused_by_a_copy_checked_a_moment_ago(
    menu, client_for, customer, settings
):
    """Another process puts oat milk back on sale; the customer sees it at once (live
    menu) and pays: this process checked the version under a second ago, but asks
    again before refusing, so the order goes through."""
    settings.MENU_PRICING_VERSION_CHECK_SECONDS = 3600  # no regular look-up in this test
    client = client_for(customer)
    line = latte_line(1)
    oat = option("Milk", "Oat")
    Option.objects.filter(id=oat.id).update(is_available=False)  # no signal: as elsewhere
    cache.set(PRICING_VERSION_KEY, f"sold-out-elsewhere-{uuid.uuid4()}", None)
    pricing_menu_forget()
    refused = client.post(
        "/api/orders/",
        {"payment_method": "pm_card_visa", "lines": [line]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="a",
    )
    assert refused.status_code == 400, refused.json()

    Option.objects.filter(id=oat.id).update(is_available=True)
    cache.set(PRICING_VERSION_KEY, f"back-on-elsewhere-{uuid.uuid4()}", None)
    placed = client.post(
        "/api/orders/",
        {"payment_method": "pm_card_visa", "lines": [line]},
        format="json",
        HTTP_IDEMPOTENCY_KEY="b",
    )

    assert placed.status_code == 201, placed.json()
