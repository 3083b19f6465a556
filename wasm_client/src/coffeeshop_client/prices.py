"""Prices in the browser, computed by `shared/pricing.py` — the same module Order uses.

The build copies `shared/pricing.py` into the app archive (wasm_client/build.py), so
the client shows the total the Order service will charge without a round trip;
nothing here re-implements its sums. Also here: amounts as a manager types them in
pounds (`pence_parse`, `pounds`).
"""

from __future__ import annotations

from typing import Any

from coffeeshop_client.models import Product
from shared import pricing


def format_money(amount: int, currency: str) -> str:
    """`450, "GBP"` → `£4.50`."""
    return pricing.format_money(amount, currency)


def format_delta(amount: int, currency: str) -> str:
    """A price difference for an option label: `+£0.50`, `-£0.20`, or '' for none."""
    if amount == 0:
        return ""
    return ("+" if amount > 0 else "") + format_money(amount, currency)


def line_inputs(
    product: Product,
    variation_id: int | None,
    option_ids: tuple[int, ...],
    quantity: int,
    currency: str,
) -> dict[str, Any]:
    """The plain dict `shared.pricing.PricedLine.from_dict` takes, from menu data."""
    variation = product.variation(variation_id)
    deltas = []
    for option_id in option_ids:
        found = product.find_option(option_id)
        if found is not None:
            deltas.append(found[1].price_delta)
    return {
        "base_price": product.base_price,
        "variation_delta": variation.price_delta if variation else 0,
        "option_deltas": tuple(deltas),
        "quantity": quantity,
        "currency": currency,
    }


def price_line(
    product: Product,
    variation_id: int | None,
    option_ids: tuple[int, ...],
    quantity: int,
    currency: str,
) -> tuple[int, int] | None:
    """`(unit_price, line_total)`, or None when the line has no price (e.g. a quantity
    out of range)."""
    try:
        priced = pricing.price_line(
            line_inputs(product, variation_id, option_ids, quantity, currency)
        )
    except pricing.PricingError:
        return None
    return priced.unit_price, priced.line_total


# ---- amounts a manager types (the menu and refund forms) ----------------------------

MAX_PENCE = 100_000  # the BFF's bound: £1,000


def pence_parse(text: str, *, allow_negative: bool = False) -> int | None:
    """ "4.20", "£4.2", "4" → 420; None for anything else (or a negative, unless allowed)."""
    cleaned = text.strip().removeprefix("£").strip()
    negative = allow_negative and cleaned.startswith("-")
    cleaned = cleaned.removeprefix("-") if negative else cleaned
    pounds, _, pennies = cleaned.partition(".")
    if not pounds.isdigit() and not (pounds == "" and pennies):
        return None
    if pennies and (not pennies.isdigit() or len(pennies) > 2):
        return None
    amount = int(pounds or "0") * 100 + int((pennies + "00")[:2] if pennies else "0")
    if amount > MAX_PENCE:
        return None
    return -amount if negative else amount


def pounds(amount: int) -> str:
    """420 → "4.20" (the text a price field starts with)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount) // 100}.{abs(amount) % 100:02d}"
