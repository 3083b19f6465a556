"""The price a customer is shown is the price Order charges, for every choice on the
seeded menu (issue 10, "Money").

Every product of the demo menu and every valid choice of it — each variation, and none
where none is required; every allowed combination of every option group; quantities
from 1 to 20 — is enumerated exhaustively (a few hundred carts). For each one the web
client (its models, `customize`, `prices` and the rendered customise page, fed the menu
as the BFF serves it) says what it costs, and Order places it for real against the test
PostgreSQL database; the two must agree to the penny. The menu card's price must be
what Order charges for the card's "Add".
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bff_site.clients.order import _menu_view
from order_site.orders.models import Order

SRC = Path(__file__).resolve().parents[3] / "wasm_client" / "src"
if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))

from coffeeshop_client import customize, prices, router, views  # noqa: E402
from coffeeshop_client.cart import Cart  # noqa: E402
from coffeeshop_client.models import Menu, Product  # noqa: E402
from coffeeshop_client.state import State  # noqa: E402
from coffeeshop_client.views.cart import cart_rows  # noqa: E402
from coffeeshop_client.views.components import money  # noqa: E402
from coffeeshop_client.views.menu import card_price  # noqa: E402

pytestmark = pytest.mark.django_db


def group_choices(product: Product) -> Iterator[tuple[int, ...]]:
    """Every allowed combination of options, one pick per group."""
    per_group = []
    for group in product.option_groups:
        available = [o.id for o in group.options if o.is_available]
        per_group.append(
            [
                combo
                for size in range(group.min, group.max + 1)
                for combo in itertools.combinations(available, size)
            ]
        )
    for picks in itertools.product(*per_group):
        yield tuple(sorted(option for pick in picks for option in pick))


def choices(product: Product) -> Iterator[customize.Selection]:
    variations: list[int | None] = [v.id for v in product.variations if v.is_available]
    if not product.variation_required or not variations:
        variations.insert(0, None)
    for variation_id in variations:
        for option_ids in group_choices(product):
            yield customize.Selection(product.id, variation_id, option_ids)


def shown(menu: Menu, selection: customize.Selection) -> tuple[int, int]:
    """(unit price, line total) as the client shows them: on the customise page and
    in the cart."""
    product = menu.product(selection.product_id)
    assert product is not None
    assert customize.problems(product, selection) == []  # the client lets it be ordered
    priced = prices.price_line(
        product, selection.variation_id, selection.option_ids, selection.quantity, menu.currency
    )
    assert priced is not None
    state = State(menu=menu, session_loaded=True, route=router.parse(f"#/product/{product.id}"))
    state.selection = selection
    page = views.page(state)
    live = f'data-testid="live-price" aria-live="polite">{money(priced[1], "GBP")}<'
    assert live in page
    state.cart = Cart().add(
        selection.product_id, selection.variation_id, selection.option_ids, selection.quantity
    )
    rows, total = cart_rows(state)
    assert (rows[0][3], total) == (priced[1], priced[1])
    return priced


def charged(client: Any, selection: customize.Selection, key: str) -> tuple[int, int]:
    line = {
        "product_id": selection.product_id,
        "variation_id": selection.variation_id,
        "option_ids": list(selection.option_ids),
        "quantity": selection.quantity,
    }
    response = client.post(
        "/api/orders/",
        {"lines": [line], "payment_method": "pm_card_visa"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert response.status_code == 201, (line, response.json())
    body = response.json()
    assert Order.objects.get(id=body["id"]).total == body["total"]
    return body["lines"][0]["unit_price"], body["total"]


def test_every_valid_choice_on_the_seeded_menu_costs_what_the_client_shows(
    menu, client_for, customer
):
    client = client_for(customer)
    bff_menu = Menu.from_json(_menu_view(list(client.get("/api/menu/").json())))
    products = [p for c in bff_menu.categories for p in c.products]
    assert len(products) == 5
    count = 0
    for product in products:
        for selection in choices(product):
            count += 1
            selection = customize.set_quantity(selection, count % 20 + 1)

            assert shown(bff_menu, selection) == charged(client, selection, f"k-{count}"), (
                product.name,
                selection,
            )
    assert count == 120 + 12 + 90 + 90 + 3  # Latte, Espresso, Macchiato, Iced Coffee, Donuts


def test_the_menu_card_price_is_what_order_charges_for_the_card_s_add(menu, client_for, customer):
    client = client_for(customer)
    bff_menu = Menu.from_json(_menu_view(list(client.get("/api/menu/").json())))
    for product in (p for c in bff_menu.categories for p in c.products):
        selection = customize.default_selection(product)

        card = card_price(product, bff_menu.currency)

        assert customize.problems(product, selection) == []
        assert (card, card) == charged(client, selection, f"card-{product.id}"), product.name
        assert card == product.base_price  # the seeded defaults add nothing
