"""Dietary badges of the menu (vegan, contains caffeine …) and which of them a drink has
once its options are chosen.

Plain Python with no Django and no third-party import: the web client (Pyodide) shows
the badges Order stores. Keys are stable identifiers stored in the menu; labels are
what people read. A key outside `BADGES` is refused where menus are written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from shared.allergens import allergens_for

# Key -> label, in the order they are shown.
BADGES: dict[str, str] = {
    "vegan": "Vegan",
    # Made with cow's milk, vegan once a plant milk replaces it (a latte with oat milk).
    "vegan_with_plant_milk": "Vegan with plant milk",
    "vegetarian": "Vegetarian",
    "caffeine": "Contains caffeine",
}


def unknown_badges(keys: Iterable[Any]) -> list[str]:
    """The keys that are not badges (empty when every one is)."""
    return [str(key) for key in keys if key not in BADGES]


def _badges(product: Any) -> list[str]:
    value = product.get("badges") if isinstance(product, Mapping) else product.badges
    return [str(key) for key in value or ()]


def badges_for(product: Any, variation: Any = None, options: Iterable[Any] = ()) -> list[str]:
    """The badges of a product as chosen: its own, except that "vegan with plant milk"
    becomes "vegan" when a chosen option replaced the cow's milk and the drink as chosen
    contains no milk (`shared.allergens.allergens_for`): oat milk yes, whole milk no.

    Arguments as for `allergens_for` (mappings or objects with `badges`, `allergens`,
    `removes_allergens`). Answers keys in `BADGES` order, unknown keys after them.
    """
    chosen = list(options)
    present = _badges(product)
    if "vegan_with_plant_milk" in present and chosen:
        without_milk = "milk" not in allergens_for(product, variation, chosen)
        replaces_milk = any("milk" in _removes(option) for option in chosen)
        if without_milk and replaces_milk:
            present = [key for key in present if key != "vegan_with_plant_milk"] + ["vegan"]
    known = [key for key in BADGES if key in present]
    return known + sorted(set(present) - set(BADGES))


def _removes(option: Any) -> list[str]:
    value = (
        option.get("removes_allergens")
        if isinstance(option, Mapping)
        else getattr(option, "removes_allergens", None)
    )
    return [str(key) for key in value or ()]


def badge_labels(keys: Iterable[str]) -> list[str]:
    """`["vegan", "caffeine"]` -> `["Vegan", "Contains caffeine"]`."""
    return [BADGES.get(key, key) for key in keys]
