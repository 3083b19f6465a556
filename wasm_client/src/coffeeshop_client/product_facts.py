"""What a customer reads about a product beside its price: its photo, its dietary badges
and its calories, on the menu card and for the drink as chosen.

The photo's file comes from the map the build packs beside this module
(`photos.json`: key -> `photos/<key>.<hash>.svg`, wasm_client/build.py), so the
browser and the BFF's first render name the same, forever-cached file. The badge rule
is `shared/dietary.py`'s (oat milk makes a latte vegan); nothing here re-implements it.
"""

from __future__ import annotations

import json
import pkgutil
from dataclasses import dataclass

from coffeeshop_client.customize import Selection
from coffeeshop_client.models import Choice, OptionGroup, Product
from shared import dietary
from shared.photos import PHOTOS

# Where the BFF serves the built client (WASM_CLIENT_URL_PREFIX, "/" by default).
URL_PREFIX = "/"
_files: dict[str, str] | None = None


@dataclass(frozen=True)
class PhotoView:
    src: str
    alt: str
    width: int
    height: int


def photo_files() -> dict[str, str]:
    """Key -> served path of every photo, from the build's map (empty when running from
    the sources, unbuilt: no photo is shown then)."""
    global _files
    if _files is None:
        try:
            data = pkgutil.get_data("coffeeshop_client", "photos.json")
        except OSError:
            data = None
        _files = {str(k): str(v) for k, v in json.loads(data).items()} if data else {}
    return _files


def photo_files_set(files: dict[str, str] | None) -> None:
    """Use this map (None: read the build's again); for a page rendered from sources."""
    global _files
    _files = None if files is None else dict(files)


def photo(product: Product) -> PhotoView | None:
    """The product's photo, or None when it has none (or names one this build lacks)."""
    known = PHOTOS.get(product.photo)
    path = photo_files().get(product.photo)
    if known is None or path is None:
        return None
    return PhotoView(URL_PREFIX + path, known.alt, known.width, known.height)


def _chosen(product: Product, selection: Selection | None) -> tuple[Choice | None, list[Choice]]:
    if selection is None:
        return None, []
    options = [
        found[1]
        for found in (product.find_option(option_id) for option_id in selection.option_ids)
        if found is not None
    ]
    return product.variation(selection.variation_id), options


def badges(product: Product, selection: Selection | None = None) -> list[tuple[str, str]]:
    """(key, label) of each badge: the product's as it comes, or as chosen."""
    variation, options = _chosen(product, selection)
    keys = dietary.badges_for(product, variation, options)
    return list(zip(keys, dietary.badge_labels(keys), strict=True))


def _size_group(product: Product) -> OptionGroup | None:
    """The group its calories go by: the first of exactly one choice with calories."""
    given = {c.size_id for c in product.calories}
    for group in product.option_groups:
        if group.min == 1 and group.max == 1 and given & {o.id for o in group.options}:
            return group
    return None


def calories_range(product: Product) -> str | None:
    """The menu card's words: `260 kcal`, or `140-250 kcal` over its sizes (with an en
    dash); None if none are given."""
    group = _size_group(product)
    if group is None:
        plain = [c.kcal for c in product.calories if c.size_id is None]
        return f"{plain[0]} kcal" if plain else None
    offered = {o.id for o in group.options}
    values = [c.kcal for c in product.calories if c.size_id in offered]
    low, high = min(values), max(values)
    return f"{low} kcal" if low == high else f"{low}\u2013{high} kcal"


def calories_chosen(product: Product, selection: Selection) -> str | None:
    """The product page's words for the size chosen: `190 kcal (Medium)`; before a size
    is chosen, the range; None if none are given for it."""
    group = _size_group(product)
    if group is None:
        return calories_range(product)
    size = next((o for o in group.options if o.id in selection.option_ids), None)
    if size is None:
        return calories_range(product)
    kcal = next((c.kcal for c in product.calories if c.size_id == size.id), None)
    return None if kcal is None else f"{kcal} kcal ({size.name})"
