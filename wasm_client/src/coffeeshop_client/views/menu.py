"""The menu (`/`): the products by category, each with its price and a quick "Add",
and the customer's orders still in progress on top."""

from __future__ import annotations

from coffeeshop_client import allergens, customize, prices, product_facts, router, statuses
from coffeeshop_client.html import Markup, fragment, h
from coffeeshop_client.models import Product
from coffeeshop_client.state import State
from coffeeshop_client.views.components import (
    add_line_form,
    diet_badges,
    heading,
    loading,
    money,
    product_photo,
    status_badge,
)
from coffeeshop_client.views.usuals import usuals

# Cards whose photo is in the first screenful on a phone load at once; the rest lazily.
EAGER_PHOTOS = 2


def menu_page(state: State) -> Markup:
    if state.menu is None:
        return fragment(heading("Menu"), loading("Loading the menu…") if state.loading else "")
    currency = state.menu.currency
    order = {
        p.id: n for n, p in enumerate(p for cat in state.menu.categories for p in cat.products)
    }
    sections = [
        h(
            "section",
            {"class_": "category", "aria_labelledby": f"cat-{cat.id}"},
            h("h2", {"id": f"cat-{cat.id}"}, cat.name),
            h(
                "ul",
                {"class_": "products"},
                [
                    product_card(state, p, currency, lazy=order[p.id] >= EAGER_PHOTOS)
                    for p in cat.products
                ],
            ),
        )
        for cat in state.menu.categories
    ]
    if not sections:
        sections = [h("p", None, "The menu is empty right now.")]
    return fragment(heading("Menu"), active_orders(state), usuals(state), sections)


def active_orders(state: State) -> Markup:
    """A customer's orders still in progress, on top of the menu: where is my coffee?"""
    live = [
        state.orders[i]
        for i in state.order_ids
        if i in state.orders and statuses.is_live(state.orders[i].status)
    ][:3]
    if not live:
        return Markup("")
    return h(
        "ul",
        {"class_": "active-orders", "aria_label": "Your orders in progress"},
        [
            h(
                "li",
                {"class_": "active-order", "data_testid": "active-order", "data_order_id": o.id},
                h("a", {"href": router.href("order", id=o.id)}, f"Order {o.pickup}"),
                " ",
                status_badge(o.status),
            )
            for o in live
        ],
    )


def card_price(product: Product, currency: str) -> int:
    """The price of what the card's "Add" puts in the cart (the default choice): the
    price shown is the price charged."""
    selection = customize.default_selection(product)
    priced = prices.price_line(
        product, selection.variation_id, selection.option_ids, selection.quantity, currency
    )
    return priced[0] if priced else product.base_price


def product_card(state: State, product: Product, currency: str, *, lazy: bool = True) -> Markup:
    sold_out = not product.is_available
    kcal = product_facts.calories_range(product)
    photo = product_photo(product, lazy=lazy, class_="product-photo")
    return h(
        "li",
        {
            "class_": "product"
            + (" has-photo" if photo else "")
            + (" is-sold-out" if sold_out else ""),
            "data_testid": "menu-item",
            "data_product_id": product.id,
            "data_product_name": product.name,
        },
        photo,
        h("h3", None, product.name),
        h("p", {"class_": "description"}, product.description) if product.description else None,
        diet_badges(product_facts.badges(product)),
        h("p", {"class_": "kcal", "data_testid": "menu-calories"}, kcal) if kcal else None,
        h("p", {"class_": "allergens"}, allergens.product_line(product))
        if product.allergens
        else None,
        h(
            "div",
            {"class_": "product-foot"},
            h(
                "span",
                {"class_": "price", "data_testid": "menu-price"},
                money(card_price(product, currency), currency),
            ),
            h("span", {"class_": "sold-out"}, "Sold out")
            if sold_out
            else fragment(
                h(
                    "a",
                    {
                        "class_": "btn btn-quiet",
                        "href": router.href("product", id=product.id),
                        "aria_label": f"Customise {product.name}",
                        "data_testid": "customise",
                    },
                    "Customise",
                ),
                # A form, so "Add" works before Python has loaded (the BFF takes it).
                add_line_form(
                    state,
                    "quick-add",
                    {"product": product.id, "next": router.href("menu")},
                    h(
                        "button",
                        {
                            "type": "submit",
                            "id": f"quick-add-{product.id}",
                            "class_": "btn",
                            "data_testid": "quick-add",
                            "aria_label": f"Add {product.name} to cart",
                        },
                        "Add",
                    ),
                ),
            ),
        ),
    )
