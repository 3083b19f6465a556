"""The allergen line of a drink as the customer has chosen it, from `shared/allergens.py`
(the same module Order's receipt uses; the build copies it into the app archive);
nothing here re-implements the rule.
"""

from __future__ import annotations

from coffeeshop_client.customize import Selection
from coffeeshop_client.models import Choice, Product
from shared import allergens


def product_line(product: Product) -> str | None:
    """The menu card's line: the product as it comes (None when it declares none)."""
    if not product.allergens:
        return None
    return allergens.allergen_line(product.allergens)


def chosen_line(product: Product, selection: Selection) -> str:
    """`Contains: cereals containing gluten.` for a latte with oat milk: the product's
    allergens less what a chosen option replaces, plus each chosen option's."""
    chosen: list[Choice] = []
    for option_id in selection.option_ids:
        found = product.find_option(option_id)
        if found is not None:
            chosen.append(found[1])
    variation = product.variation(selection.variation_id)
    return allergens.allergen_line(allergens.allergens_for(product, variation, chosen))
