"""The allergen line of a drink as the customer has chosen it, from `shared/allergens.py`
(the same module Order's receipt uses; the build copies it into the app archive).

Without that module (an older checkout) the line falls back to the product's own list,
which may miss what an option adds; nothing here re-implements the rule.
"""

from __future__ import annotations

from types import ModuleType

from coffeeshop_client.customize import Selection
from coffeeshop_client.models import Choice, Product

_allergens: ModuleType | None
try:
    from shared import allergens as _shared_allergens

    _allergens = _shared_allergens
except ImportError:  # pragma: no cover - only without shared/allergens.py
    _allergens = None


def product_line(product: Product) -> str | None:
    """The menu card's line: the product as it comes (None when it declares none)."""
    if not product.allergens:
        return None
    if _allergens is None:  # pragma: no cover
        return "Allergens: " + ", ".join(product.allergens)
    return str(_allergens.allergen_line(product.allergens))


def chosen_line(product: Product, selection: Selection) -> str:
    """`Contains: cereals containing gluten.` for a latte with oat milk: the product's
    allergens less what a chosen option replaces, plus each chosen option's."""
    chosen: list[Choice] = []
    for option_id in selection.option_ids:
        found = product.find_option(option_id)
        if found is not None:
            chosen.append(found[1])
    if _allergens is None:  # pragma: no cover
        return "Allergens: " + ", ".join(product.allergens)
    variation = product.variation(selection.variation_id)
    keys = _allergens.allergens_for(product, variation, chosen)
    return str(_allergens.allergen_line(keys))
