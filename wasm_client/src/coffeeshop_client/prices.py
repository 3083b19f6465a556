"""Prices in the browser, computed by `shared/pricing.py` — the same module Order uses.

The build copies `shared/pricing.py` into the app archive, so the client shows the
total the Order service will charge without a round trip. When that module is
absent (an older checkout), `local_pricing_available()` is False and the app asks
the BFF (`POST /api/cart/price`) instead; nothing here re-implements its sums.
Also here: amounts as a manager types them in pounds (`pence_parse`, `pounds`).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from coffeeshop_client.models import Product

_pricing: ModuleType | None
try:
    from shared import pricing as _shared_pricing

    _pricing = _shared_pricing
except ImportError:  # pragma: no cover - only without shared/pricing.py
    _pricing = None

_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


def local_pricing_available() -> bool:
    return _pricing is not None


def format_money(amount: int, currency: str) -> str:
    """`450, "GBP"` → `£4.50`."""
    if _pricing is not None:
        return str(_pricing.format_money(amount, currency))
    sign = "-" if amount < 0 else ""  # pragma: no cover - formatting fallback only
    major, minor = divmod(abs(amount), 100)  # pragma: no cover
    symbol = _SYMBOLS.get(currency)  # pragma: no cover
    if symbol:  # pragma: no cover
        return f"{sign}{symbol}{major}.{minor:02d}"
    return f"{sign}{major}.{minor:02d} {currency}"  # pragma: no cover


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
    """`(unit_price, line_total)` computed locally, or None when it can't be here
    (no pricing module, or the line has no price, e.g. quantity out of range)."""
    if _pricing is None:
        return None
    try:
        priced = _pricing.price_line(
            line_inputs(product, variation_id, option_ids, quantity, currency)
        )
    except _pricing.PricingError:
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
