"""Ordering what was ordered before (issue 17): a past order's lines back in the cart,
and a saved drink ("my usual") in one tap, each checked against today's menu.

A line the menu can no longer serve as it was (its product, size or an option sold out
or gone) is kept and flagged, never silently dropped or changed: the cart says what is
wrong with it and checkout waits until it is changed or removed. Prices are never
copied from the old order: the cart prices every line from the live menu
(`cart_rows`, shared/pricing.py), so what is shown is what Order will charge.
"""

from __future__ import annotations

from dataclasses import dataclass

from coffeeshop_client.cart import Cart
from coffeeshop_client.models import Favourite, Menu, Order


def line_problem(
    menu: Menu, product_id: int, variation_id: int | None, option_ids: tuple[int, ...]
) -> str | None:
    """Why the menu cannot serve this line now, in the customer's words; None when it can."""
    product = menu.product(product_id)
    if product is None:
        return "No longer on the menu."
    if not product.is_available:
        return f"{product.name} is sold out today."
    if variation_id is not None:
        variation = product.variation(variation_id)
        if variation is None:
            return f"That {product.variation_label.lower()} is no longer offered."
        if not variation.is_available:
            return f"{variation.name} {product.name} is sold out today."
    for option_id in option_ids:
        found = product.find_option(option_id)
        if found is None:
            return "One of its options is no longer offered."
        group, option = found
        if not option.is_available:
            name = (
                option.name
                if group.name.lower() in option.name.lower()
                else f"{option.name} {group.name.lower()}"
            )
            return f"{name} is sold out today."
    return None


@dataclass(frozen=True)
class Reorder:
    """What "Order again" did: the cart it made, how many items went in, and a
    sentence for each line that needs a look (`flagged`)."""

    cart: Cart
    added: int
    flagged: tuple[str, ...]


def order_again(cart: Cart, menu: Menu, order: Order) -> Reorder:
    """`cart` with every line of `order` added at its quantity. A line whose product has
    left the menu altogether (no id to order it by) cannot go in: it is flagged; a line
    with a choice sold out or gone goes in and is flagged (the cart shows it)."""
    flagged: list[str] = []
    added = 0
    for line in order.lines:
        if line.product_id is None:
            flagged.append(f"{line.product_name}: no longer on the menu, not added.")
            continue
        cart = cart.add(line.product_id, line.variation_id, line.option_ids, line.quantity)
        added += line.quantity
        problem = line_problem(menu, line.product_id, line.variation_id, line.option_ids)
        if problem is not None:
            flagged.append(f"{line.product_name}: {problem}")
    return Reorder(cart, added, tuple(flagged))


def favourite_title(menu: Menu | None, favourite: Favourite) -> str:
    """What a saved drink is called: its own name, else its product's."""
    if favourite.name:
        return favourite.name
    product = menu.product(favourite.product_id) if menu else None
    return product.name if product is not None else "A drink"
