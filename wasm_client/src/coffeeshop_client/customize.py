"""Choosing a size and options for one product, with the rules of its option groups."""

from __future__ import annotations

from dataclasses import dataclass, replace

from coffeeshop_client.cart import clamp_quantity
from coffeeshop_client.models import OptionGroup, Product
from shared.pricing import MAX_QUANTITY, MIN_QUANTITY


@dataclass(frozen=True)
class Selection:
    product_id: int
    variation_id: int | None
    option_ids: tuple[int, ...] = ()
    quantity: int = 1


def default_selection(product: Product) -> Selection:
    """What the menu card prices and its "Add" puts in the cart: the first available
    variation only when one is required (a plain Latte needs none), and for each group
    that requires a choice its first available options up to the minimum; optional
    groups start empty ("None")."""
    variation = (
        next((v.id for v in product.variations if v.is_available), None)
        if product.variation_required
        else None
    )
    chosen: list[int] = []
    for group in product.option_groups:
        available = [o.id for o in group.options if o.is_available]
        chosen.extend(available[: group.min])
    return Selection(product.id, variation, tuple(sorted(chosen)))


def _in_group(group: OptionGroup, option_ids: tuple[int, ...]) -> list[int]:
    ids = {o.id for o in group.options}
    return [o for o in option_ids if o in ids]


def choose_variation(product: Product, selection: Selection, variation_id: int) -> Selection:
    """Choose a variation; `0` chooses none, where none is required."""
    if variation_id == 0:
        return selection if product.variation_required else replace(selection, variation_id=None)
    variation = product.variation(variation_id)
    if variation is None or not variation.is_available:
        return selection
    return replace(selection, variation_id=variation_id)


def toggle_option(product: Product, selection: Selection, option_id: int) -> Selection:
    """Tick or untick an option. In a single-choice group (max 1) ticking replaces the
    current choice; in others, ticking past the maximum is refused (no change)."""
    found = product.find_option(option_id)
    if found is None:
        return selection
    group, option = found
    current = set(selection.option_ids)
    in_group = _in_group(group, selection.option_ids)
    if option_id in current:
        if group.is_single_choice and group.min >= 1:
            return selection  # a required radio choice can be changed, not cleared
        current.discard(option_id)
    else:
        if not option.is_available:
            return selection
        if group.is_single_choice:
            current.difference_update(in_group)
        elif len(in_group) >= group.max:
            return selection
        current.add(option_id)
    return replace(selection, option_ids=tuple(sorted(current)))


def clear_group(product: Product, selection: Selection, group_id: int) -> Selection:
    """The "None" choice of an optional group: nothing chosen in it."""
    group = next((g for g in product.option_groups if g.id == group_id), None)
    if group is None or group.min > 0:
        return selection
    ids = {o.id for o in group.options}
    return replace(selection, option_ids=tuple(o for o in selection.option_ids if o not in ids))


def is_optional_single_choice(group: OptionGroup) -> bool:
    """Shown as radio buttons with a "None" first."""
    return group.is_single_choice and group.min == 0


def set_quantity(selection: Selection, quantity: int) -> Selection:
    return replace(selection, quantity=clamp_quantity(quantity))


def problems(product: Product, selection: Selection) -> list[str]:
    """Why this selection can't be ordered, in words for the customer ([] when it can)."""
    found: list[str] = []
    if not product.is_available:
        found.append(f"{product.name} is sold out right now.")
    if product.variations:
        variation = product.variation(selection.variation_id)
        if variation is None:
            if selection.variation_id is not None or (
                product.variation_required and any(v.is_available for v in product.variations)
            ):
                found.append(f"Choose a {product.variation_label.lower()}.")
        elif not variation.is_available:
            found.append(f"{variation.name} is not available right now.")
    for group in product.option_groups:
        chosen = _in_group(group, selection.option_ids)
        if len(chosen) < group.min:
            noun = "option" if group.min == 1 else "options"
            found.append(f"{group.name}: choose at least {group.min} {noun}.")
        if len(chosen) > group.max:
            found.append(f"{group.name}: choose at most {group.max}.")
        for option_id in chosen:
            option = group.option(option_id)
            if option is not None and not option.is_available:
                found.append(f"{option.name} is not available right now.")
    return found


def from_form(product: Product, fields: list[tuple[str, str]]) -> tuple[Selection, str | None]:
    """The product page's form as it was filled in (its `variation`, `group-<id>` and
    `quantity` fields), and what in it the menu doesn't offer (None: all of it is).

    The BFF reads a posted form with it, and the client the form a person filled in
    before Python took the page over, so both read a choice the same way."""
    values: dict[str, list[str]] = {}
    for name, value in fields:
        values.setdefault(name, []).append(value)
    quantity = _number((values.get("quantity") or ["1"])[-1])
    if quantity is None or not MIN_QUANTITY <= quantity <= MAX_QUANTITY:
        wanted = f"Choose a quantity from {MIN_QUANTITY} to {MAX_QUANTITY}."
        return Selection(product.id, None), wanted
    variation_id = _number((values.get("variation") or ["0"])[-1]) or None
    if variation_id is not None and product.variation(variation_id) is None:
        return Selection(product.id, None), "That size is not on the menu."
    option_ids: set[int] = set()
    for group in product.option_groups:
        for value in values.get(f"group-{group.id}", []):
            if value == "":
                continue  # the group's "None"
            option_id = _number(value)
            if option_id is None or group.option(option_id) is None:
                return Selection(product.id, None), "That choice is not on the menu."
            option_ids.add(option_id)
    return Selection(product.id, variation_id, tuple(sorted(option_ids)), quantity), None


def _number(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def variation_hint(product: Product) -> str:
    return "Choose 1" if product.variation_required else "Optional"


def group_hint(group: OptionGroup) -> str:
    """`Choose 1`, `Optional, up to 3`, `Choose 1 to 2`."""
    if group.min == group.max:
        return f"Choose {group.min}"
    if group.min == 0:
        return "Optional" if group.max == 1 else f"Optional, up to {group.max}"
    return f"Choose {group.min} to {group.max}"
