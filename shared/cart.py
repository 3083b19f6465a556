"""What may be ordered: one validator for the BFF's price preview and Order's placement.

Plain Python with no Django (the web client may import it under Pyodide). A cart is
checked against a `Catalogue`, a read-only plain-data view of the menu that Order
builds from its rows once per pricing-cache load and the BFF builds from the menu it
serves, so both sides refuse the same carts with the same field names and messages
(`lines[0].option_ids`: `Choose exactly 1 Size.`) and price the rest with
`shared.pricing`, the function the web client shows prices with.

Caps (docs/decisions.md, "One cart validator"): at most MAX_LINES lines and MAX_ITEMS
items (the sum of the quantities) in one order, 1..20 of each line, at most
MAX_OPTIONS options on a line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.pricing import MAX_QUANTITY, MIN_QUANTITY, PricedLine, PricingError, price_order

MAX_LINES = 20
MAX_ITEMS = 50
MAX_OPTIONS = 20
MAX_ID = 2**63 - 1

LINE_FIELDS = ("product_id", "variation_id", "option_ids", "quantity")
LINES_CAP_MESSAGE = f"An order holds at most {MAX_LINES} lines and {MAX_ITEMS} items in all."
EMPTY_MESSAGE = "An order needs at least one line."
NOT_ORDERABLE = "Some lines cannot be ordered."
INVALID_FIELDS = "The request has invalid fields."

# DRF's wording for the same checks, so a shape error reads the same from the BFF's
# preview as from Order's placement serializer (order_site/orders/serializers.py).
REQUIRED = "This field is required."
NOT_NULL = "This field may not be null."
NOT_AN_INTEGER = "A valid integer is required."
UNKNOWN_FIELD = "Unknown field."


def at_least(minimum: int) -> str:
    return f"Ensure this value is greater than or equal to {minimum}."


def at_most(maximum: int) -> str:
    return f"Ensure this value is less than or equal to {maximum}."


def not_a_list(value: Any) -> str:
    return f'Expected a list of items but got type "{type(value).__name__}".'


def field_name(name: object) -> str:
    """A field name as an error names it: an unknown one is cut short, never echoed whole."""
    text = str(name)
    return text if len(text) <= 40 else text[:40] + "…"


def items_cap_message(items: int) -> str:
    return (
        f"An order holds at most {MAX_LINES} lines and {MAX_ITEMS} items in all; "
        f"this one has {items} items."
    )


class CartInvalid(ValueError):
    """The cart cannot be ordered: `detail` says so, `errors` names each field."""

    def __init__(self, detail: str, errors: Mapping[str, list[str]]) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = dict(errors)


# ---- the menu as the validator sees it ----------------------------------------------------


@dataclass(frozen=True)
class MenuChoice:
    """A variation or an option: a name, a price delta, available or not."""

    id: int
    name: str
    price_delta: int
    is_available: bool = True


@dataclass(frozen=True)
class MenuGroup:
    id: int
    name: str
    min: int
    max: int
    options: tuple[MenuChoice, ...] = ()


@dataclass(frozen=True)
class MenuProduct:
    id: int
    name: str
    base_price: int
    currency: str = "GBP"
    is_available: bool = True
    variation_required: bool = True
    variations: tuple[MenuChoice, ...] = ()
    groups: tuple[MenuGroup, ...] = ()
    # Derived look-ups, built once with the product.
    variation_by_id: dict[int, MenuChoice] = field(init=False, repr=False, compare=False)
    option_by_id: dict[int, tuple[MenuGroup, MenuChoice]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "variation_by_id", {v.id: v for v in self.variations})
        object.__setattr__(
            self, "option_by_id", {o.id: (g, o) for g in self.groups for o in g.options}
        )


@dataclass(frozen=True)
class Catalogue:
    """Every product by id: all the validator reads of the menu."""

    products: Mapping[int, MenuProduct]


def _choice(data: Mapping[str, Any]) -> MenuChoice:
    return MenuChoice(
        id=int(data["id"]),
        name=str(data.get("name", "")),
        price_delta=int(data.get("price_delta") or 0),
        is_available=bool(data.get("is_available", True)),
    )


def _group(data: Mapping[str, Any]) -> MenuGroup:
    options = tuple(_choice(o) for o in data.get("options") or ())
    minimum = data.get("min_selections", data.get("min", 0))
    maximum = data.get("max_selections", data.get("max", len(options)))
    return MenuGroup(
        id=int(data["id"]),
        name=str(data.get("name", "")),
        min=int(minimum or 0),
        max=int(maximum),
        options=options,
    )


def catalogue_from_menu(data: Mapping[str, Any] | Iterable[Mapping[str, Any]]) -> Catalogue:
    """From menu JSON: the BFF's `{"currency", "categories": [...]}` or Order's list of
    categories (`GET /api/menu`), each holding `products`."""
    categories = data.get("categories", []) if isinstance(data, Mapping) else data
    default_currency = str(data.get("currency", "GBP")) if isinstance(data, Mapping) else "GBP"
    products = {}
    for category in categories:
        for item in category.get("products") or ():
            product = MenuProduct(
                id=int(item["id"]),
                name=str(item.get("name", "")),
                base_price=int(item.get("base_price") or 0),
                currency=str(item.get("currency") or default_currency),
                is_available=bool(item.get("is_available", True)),
                variation_required=bool(item.get("variation_required", True)),
                variations=tuple(_choice(v) for v in item.get("variations") or ()),
                groups=tuple(_group(g) for g in item.get("option_groups") or ()),
            )
            products[product.id] = product
    return Catalogue(products)


# ---- a cart -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CartLine:
    product_id: int
    quantity: int
    variation_id: int | None = None
    option_ids: tuple[int, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "product_id": self.product_id,
            "variation_id": self.variation_id,
            "option_ids": list(self.option_ids),
            "quantity": self.quantity,
        }


@dataclass(frozen=True)
class CheckedLine:
    line: CartLine
    product: MenuProduct
    variation: MenuChoice | None
    options: tuple[tuple[MenuGroup, MenuChoice], ...]
    unit_price: int
    line_total: int


@dataclass(frozen=True)
class CheckedCart:
    lines: tuple[CheckedLine, ...]
    total: int
    currency: str


def _integer(value: Any, *, low: int, high: int) -> tuple[int | None, str | None]:
    # A JSON integer only: not a boolean, a string or a float (DRF coerces those; we don't).
    if type(value) is not int:
        return None, NOT_AN_INTEGER
    if value < low:
        return None, at_least(low)
    if value > high:
        return None, at_most(high)
    return value, None


def _id_or_quantity(item: dict[str, Any], name: str, *, low: int, high: int) -> tuple[Any, Any]:
    if name not in item:
        return None, REQUIRED
    if item[name] is None:
        return None, NOT_NULL
    return _integer(item[name], low=low, high=high)


def cart_lines_parse(raw: Any, *, present: bool = True) -> tuple[CartLine, ...]:
    """The `lines` of a request body as CartLines (`present`: whether the body had the
    key); raises CartInvalid naming each bad field (`lines[0].quantity` …), an unknown
    field, or the order-level caps, in the words of Order's placement serializer."""
    if not present:
        raise CartInvalid(INVALID_FIELDS, {"lines": [REQUIRED]})
    if raw is None:
        raise CartInvalid(INVALID_FIELDS, {"lines": [NOT_NULL]})
    if type(raw) is not list:
        raise CartInvalid(INVALID_FIELDS, {"lines": [not_a_list(raw)]})
    if not raw:
        raise CartInvalid(INVALID_FIELDS, {"lines": [EMPTY_MESSAGE]})
    if len(raw) > MAX_LINES:
        raise CartInvalid(INVALID_FIELDS, {"lines": [LINES_CAP_MESSAGE]})
    errors: dict[str, list[str]] = {}
    lines = []
    for index, item in enumerate(raw):
        where = f"lines[{index}]"
        if type(item) is not dict:
            errors[where] = [f"Invalid data. Expected a dictionary, but got {type(item).__name__}."]
            continue
        for name in sorted(item.keys() - set(LINE_FIELDS))[:5]:
            errors[f"{where}.{field_name(name)}"] = [UNKNOWN_FIELD]
        product_id, problem = _id_or_quantity(item, "product_id", low=1, high=MAX_ID)
        if problem:
            errors[f"{where}.product_id"] = [problem]
        quantity, problem = _id_or_quantity(item, "quantity", low=MIN_QUANTITY, high=MAX_QUANTITY)
        if problem:
            errors[f"{where}.quantity"] = [problem]
        variation_id = None
        if item.get("variation_id") is not None:
            variation_id, problem = _integer(item["variation_id"], low=1, high=MAX_ID)
            if problem:
                errors[f"{where}.variation_id"] = [problem]
        raw_options = item.get("option_ids", [])
        option_ids: list[int] = []
        if raw_options is None:
            errors[f"{where}.option_ids"] = [NOT_NULL]
        elif type(raw_options) is not list:
            errors[f"{where}.option_ids"] = [not_a_list(raw_options)]
        elif len(raw_options) > MAX_OPTIONS:
            errors[f"{where}.option_ids"] = [
                f"Ensure this field has no more than {MAX_OPTIONS} elements."
            ]
        else:
            for position, value in enumerate(raw_options):
                option_id, problem = _integer(value, low=1, high=MAX_ID)
                if problem:
                    errors[f"{where}.option_ids[{position}]"] = [problem]
                elif option_id is not None:
                    option_ids.append(option_id)
        if product_id is not None and quantity is not None:
            lines.append(CartLine(product_id, quantity, variation_id, tuple(option_ids)))
    if errors:
        raise CartInvalid(INVALID_FIELDS, errors)
    return tuple(lines)


def errors_flatten(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested serializer errors named as this module names them:
    `{"lines": {0: {"quantity": [...]}}}` → `{"lines[0].quantity": [...]}`; a
    `non_field_errors` entry is named by where it is."""
    if isinstance(errors, Mapping):
        flat: dict[str, list[str]] = {}
        for key, value in errors.items():
            if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
                name = f"{prefix}[{key}]"
            elif key == "non_field_errors" and prefix:
                name = prefix
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            flat.update(errors_flatten(value, name))
        return flat
    if isinstance(errors, list | tuple) and all(isinstance(e, str) for e in errors):
        return {prefix: [str(e) for e in errors]}
    if isinstance(errors, list | tuple):  # DRF lists child errors by position, {} when fine
        flat = {}
        for index, value in enumerate(errors):
            if value:
                flat.update(errors_flatten(value, f"{prefix}[{index}]"))
        return flat
    return {prefix: [str(errors)]}


def sold_out(name: str, *, of: str = "", lower: bool = False) -> str:
    """What a customer is told about a choice a manager marked sold out: "Latte is sold
    out.", "Oat milk is sold out." (option Oat of group Milk, `lower`), "Vanilla Latte
    is sold out." (variation Vanilla of Latte). `of` is left out when the name already
    says it (option "Extra shot" of group "Extra shot")."""
    if of and of.lower() not in name.lower():
        name = f"{name} {of.lower() if lower else of}"
    return f"{name} is sold out."


def _line_errors(product: MenuProduct, line: CartLine) -> dict[str, list[str]]:
    """What is wrong with one line of an available product ({} when nothing is)."""
    errors: dict[str, list[str]] = {}
    if line.variation_id is not None:
        variation = product.variation_by_id.get(line.variation_id)
        if variation is None:
            errors["variation_id"] = [f"{product.name} has no variation {line.variation_id}."]
        elif not variation.is_available:
            errors["variation_id"] = [sold_out(variation.name, of=product.name)]
    elif product.variation_required and any(v.is_available for v in product.variations):
        names = ", ".join(v.name for v in product.variations if v.is_available)
        errors["variation_id"] = [f"Choose one of: {names}."]
    counts = {group.id: 0 for group in product.groups}
    option_errors: list[str] = []
    if len(set(line.option_ids)) != len(line.option_ids):
        option_errors.append("An option is chosen twice.")
    for option_id in line.option_ids:
        found = product.option_by_id.get(option_id)
        if found is None:
            option_errors.append(f"{product.name} has no option {option_id}.")
        elif not found[1].is_available:
            option_errors.append(sold_out(found[1].name, of=found[0].name, lower=True))
        else:
            counts[found[0].id] += 1
    for group in product.groups:
        if not group.min <= counts[group.id] <= group.max:
            if group.min == group.max:
                option_errors.append(f"Choose exactly {group.min} {group.name}.")
            else:
                option_errors.append(f"Choose {group.min} to {group.max} {group.name}.")
    if option_errors:
        errors["option_ids"] = option_errors
    return errors


def cart_check(*, lines: Sequence[CartLine], catalogue: Catalogue) -> CheckedCart:
    """Every line checked against the menu and priced with `shared.pricing`.

    Raises CartInvalid for an empty cart, more than MAX_LINES lines or MAX_ITEMS items,
    a quantity outside 1..20, an unknown or unavailable product, a variation that is
    unknown, unavailable or required but missing, an option that is unknown to the
    product, unavailable or chosen twice, or a group chosen fewer than its minimum or
    more than its maximum times — naming each field (`lines[1].option_ids`).
    """
    if not lines:
        raise CartInvalid(EMPTY_MESSAGE, {"lines": ["Empty."]})
    if len(lines) > MAX_LINES:
        raise CartInvalid(LINES_CAP_MESSAGE, {"lines": [LINES_CAP_MESSAGE]})
    errors: dict[str, list[str]] = {}
    for index, line in enumerate(lines):
        if isinstance(line.quantity, bool) or not MIN_QUANTITY <= line.quantity <= MAX_QUANTITY:
            errors[f"lines[{index}].quantity"] = [
                at_least(MIN_QUANTITY) if line.quantity < MIN_QUANTITY else at_most(MAX_QUANTITY)
            ]
    if errors:
        raise CartInvalid(INVALID_FIELDS, errors)
    items = sum(line.quantity for line in lines)
    if items > MAX_ITEMS:
        message = items_cap_message(items)
        raise CartInvalid(message, {"lines": [message]})
    checked: list[tuple[CartLine, MenuProduct, MenuChoice | None, list[Any]]] = []
    for index, line in enumerate(lines):
        where = f"lines[{index}]"
        product = catalogue.products.get(line.product_id)
        if product is None:
            errors[f"{where}.product_id"] = [f"Unknown product {line.product_id}."]
            continue
        if not product.is_available:
            errors[f"{where}.product_id"] = [sold_out(product.name)]
            continue
        line_errors = _line_errors(product, line)
        if line_errors:
            errors.update({f"{where}.{name}": messages for name, messages in line_errors.items()})
            continue
        variation = (
            product.variation_by_id[line.variation_id] if line.variation_id is not None else None
        )
        chosen = [product.option_by_id[option_id] for option_id in line.option_ids]
        checked.append((line, product, variation, chosen))
    if errors:
        raise CartInvalid(NOT_ORDERABLE, errors)
    try:
        price = price_order(
            PricedLine(
                base_price=product.base_price,
                quantity=line.quantity,
                variation_delta=variation.price_delta if variation else 0,
                option_deltas=tuple(option.price_delta for _, option in chosen),
                currency=product.currency,
            )
            for line, product, variation, chosen in checked
        )
    except PricingError as err:
        raise CartInvalid(str(err), {"lines": [str(err)]}) from None
    return CheckedCart(
        lines=tuple(
            CheckedLine(
                line, product, variation, tuple(chosen), priced.unit_price, priced.line_total
            )
            for (line, product, variation, chosen), priced in zip(checked, price.lines, strict=True)
        ),
        total=price.total,
        currency=price.currency,
    )
