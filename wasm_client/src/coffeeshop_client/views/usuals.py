"""A signed-in customer's saved drinks ("my usual", issue 17): on the menu, each with
today's price and a one-tap "Add"; on a product page, "Save as my usual"."""

from __future__ import annotations

from coffeeshop_client import customize, prices, reorder, router
from coffeeshop_client.customize import Selection
from coffeeshop_client.html import Markup, h
from coffeeshop_client.models import Favourite, Product
from coffeeshop_client.state import State
from coffeeshop_client.views.components import button, money

FAVOURITE_NAME_MAX = 40  # Order's limit


def shows_usuals(state: State) -> bool:
    return state.session.authenticated


def usuals(state: State) -> Markup | None:
    """ "My usuals" above the menu: each saved drink, what it is, today's price, "Add"."""
    if not shows_usuals(state) or not state.favourites or state.menu is None:
        return None
    count = state.cart.count
    return h(
        "section",
        {"class_": "usuals", "aria_labelledby": "usuals-title", "data_testid": "usuals"},
        h(
            "div",
            {"class_": "usuals-head"},
            h("h2", {"id": "usuals-title"}, "My usuals"),
            # The second tap of a regular's reorder: "Add" on the usual, then this.
            h(
                "a",
                {
                    "class_": "btn btn-primary",
                    "href": router.href("checkout"),
                    "data_testid": "usuals-checkout",
                },
                f"Checkout ({count})",
            )
            if count
            else None,
        ),
        h("ul", {"class_": "usual-list"}, [usual_card(state, f) for f in state.favourites]),
    )


def usual_card(state: State, favourite: Favourite) -> Markup:
    menu = state.menu
    assert menu is not None
    currency = menu.currency
    title = reorder.favourite_title(menu, favourite)
    product = menu.product(favourite.product_id)
    details = _details(product, favourite) if product is not None else ""
    problem = reorder.line_problem(
        menu, favourite.product_id, favourite.variation_id, favourite.option_ids
    )
    priced = (
        prices.price_line(product, favourite.variation_id, favourite.option_ids, 1, currency)
        if product is not None and problem is None
        else None
    )
    removing = f"favourite-remove-{favourite.id}" in state.busy
    return h(
        "li",
        {
            "class_": "usual" + (" is-sold-out" if problem else ""),
            "data_testid": "usual",
            "data_favourite_id": favourite.id,
        },
        h(
            "div",
            {"class_": "usual-text"},
            h("strong", {"data_testid": "usual-name"}, title),
            h("span", {"class_": "details"}, details) if details else None,
            h("span", {"class_": "line-problem", "data_testid": "usual-problem"}, problem)
            if problem
            else None,
        ),
        h("span", {"class_": "price", "data_testid": "usual-price"}, money(priced[0], currency))
        if priced
        else None,
        button(
            "Add",
            "favourite-add",
            id=f"favourite-add-{favourite.id}",
            testid="usual-add",
            class_="btn btn-primary",
            disabled=problem is not None,
            favourite=favourite.id,
            aria_label=f"Add {title} to cart",
        ),
        button(
            "Removing…" if removing else "Remove",
            "favourite-remove",
            id=f"favourite-remove-{favourite.id}",
            testid="usual-remove",
            class_="btn btn-quiet btn-small",
            disabled=removing,
            favourite=favourite.id,
            aria_label=f"Remove {title} from my usuals",
        ),
    )


def _details(product: Product, favourite: Favourite) -> str:
    names = [product.name] if favourite.name else []
    variation = product.variation(favourite.variation_id)
    if variation is not None:
        names.append(variation.name)
    for option_id in favourite.option_ids:
        found = product.find_option(option_id)
        if found is not None:
            names.append(found[1].name)
    return ", ".join(names)


def save_usual_form(state: State, product: Product, selection: Selection) -> Markup | None:
    """ "Save as my usual" under a product page's "Add to cart": the drink as chosen,
    with an optional name. Only for a signed-in customer; Python runs it (sent before
    Python has loaded, it only reloads the page)."""
    if not shows_usuals(state):
        return None
    busy = "favourite-save" in state.busy
    return h(
        "form",
        {"class_": "save-usual", "data_action": "favourite-save", "data_testid": "save-usual"},
        h("label", {"for_": "favourite-name"}, "Save this drink as my usual"),
        h(
            "div",
            {"class_": "save-usual-row"},
            h(
                "input",
                {
                    "id": "favourite-name",
                    "type": "text",
                    "name": "name",
                    "maxlength": FAVOURITE_NAME_MAX,
                    "placeholder": "Name it (optional)",
                    "data_testid": "favourite-name",
                },
            ),
            h(
                "button",
                {
                    "type": "submit",
                    "id": "save-favourite",
                    "class_": "btn",
                    "data_testid": "save-favourite",
                    "disabled": busy or bool(customize.problems(product, selection)),
                },
                "Saving…" if busy else "☆ Save as my usual",
            ),
        ),
    )
