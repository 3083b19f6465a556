"""The 14 allergens UK and EU law requires a food business to declare, and which of them a
drink contains once its options are chosen.

Plain Python with no Django and no third-party import: the web client (Pyodide) shows
the same allergen line the receipt prints. Keys are stable identifiers stored in the
menu; labels are what people read. The list is fixed by law (Food Information
Regulations 2014, Schedule 14 / EU Regulation 1169/2011, Annex II): a key outside it
is refused where menus are written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# Key -> label, in the order the regulation lists them.
ALLERGENS: dict[str, str] = {
    "celery": "celery",
    "gluten": "cereals containing gluten",
    "crustaceans": "crustaceans",
    "eggs": "eggs",
    "fish": "fish",
    "lupin": "lupin",
    "milk": "milk",
    "molluscs": "molluscs",
    "mustard": "mustard",
    "tree_nuts": "tree nuts",
    "peanuts": "peanuts",
    "sesame": "sesame",
    "soybeans": "soybeans",
    "sulphites": "sulphites",
}


def unknown_allergens(keys: Iterable[Any]) -> list[str]:
    """The keys that are not among the 14 (empty when every one is)."""
    return [str(key) for key in keys if key not in ALLERGENS]


def _field(thing: Any, name: str) -> list[str]:
    if thing is None:
        return []
    value = thing.get(name) if isinstance(thing, Mapping) else getattr(thing, name, None)
    return [str(key) for key in value or ()]


def allergens_for(product: Any, variation: Any = None, options: Iterable[Any] = ()) -> list[str]:
    """The allergens of a product as chosen: its own, less those a chosen option replaces
    (oat milk replaces the default cow's milk), plus the variation's and each option's.

    Each argument is a mapping (the menu's JSON) or an object with the same attributes
    (Order's models): `allergens`, and on an option `removes_allergens`. Answers keys in
    the regulation's order; a key outside the 14 is kept, after them (never dropped).
    """
    chosen = list(options)
    present = set(_field(product, "allergens"))
    for option in chosen:
        present -= set(_field(option, "removes_allergens"))
    present |= set(_field(variation, "allergens"))
    for option in chosen:
        present |= set(_field(option, "allergens"))
    return [key for key in ALLERGENS if key in present] + sorted(present - set(ALLERGENS))


def allergen_labels(keys: Iterable[str]) -> list[str]:
    """`["milk", "gluten"]` -> `["milk", "cereals containing gluten"]`."""
    return [ALLERGENS.get(key, key) for key in keys]


def allergen_line(keys: Iterable[str]) -> str:
    """`Contains: cereals containing gluten, milk.`, or `No allergens declared.`"""
    labels = allergen_labels(keys)
    if not labels:
        return "No allergens declared."
    return "Contains: " + ", ".join(labels) + "."
