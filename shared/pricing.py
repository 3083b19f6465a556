"""Prices of order lines and orders: one pure function for the server and the web client.

Plain Python with no Django and no third-party import, so the WebAssembly client
(Pyodide, Python 3.14) shows exactly the total the Order service will charge.
Every amount is an integer in the currency's smallest unit (pence for GBP).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MIN_QUANTITY = 1
MAX_QUANTITY = 20


class PricingError(ValueError):
    """A line or an order that has no price (bad quantity, negative price, mixed currency)."""


@dataclass(frozen=True)
class PricedLine:
    """What a line costs: the base price plus the variation's and each option's delta."""

    base_price: int
    quantity: int
    variation_delta: int = 0
    option_deltas: Sequence[int] = field(default_factory=tuple)
    currency: str = "GBP"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PricedLine:
        """From a plain dict with the same keys (what the web client holds)."""
        return cls(
            base_price=int(data["base_price"]),
            quantity=int(data["quantity"]),
            variation_delta=int(data.get("variation_delta", 0)),
            option_deltas=tuple(int(d) for d in data.get("option_deltas", ())),
            currency=str(data.get("currency", "GBP")),
        )


@dataclass(frozen=True)
class LinePrice:
    unit_price: int
    quantity: int
    line_total: int
    currency: str


@dataclass(frozen=True)
class OrderPrice:
    lines: tuple[LinePrice, ...]
    total: int
    currency: str


def price_line(line: PricedLine | Mapping[str, Any]) -> LinePrice:
    """Unit price and line total; raises PricingError for a quantity outside 1..20
    or a unit price below zero."""
    if not isinstance(line, PricedLine):
        line = PricedLine.from_dict(line)
    if isinstance(line.quantity, bool) or not MIN_QUANTITY <= line.quantity <= MAX_QUANTITY:
        raise PricingError(
            f"quantity must be between {MIN_QUANTITY} and {MAX_QUANTITY}, not {line.quantity}"
        )
    unit_price = line.base_price + line.variation_delta + sum(line.option_deltas)
    if unit_price < 0:
        raise PricingError(f"unit price would be negative ({unit_price})")
    return LinePrice(unit_price, line.quantity, unit_price * line.quantity, line.currency)


def price_order(lines: Iterable[PricedLine | Mapping[str, Any]]) -> OrderPrice:
    """Every line's price and the order total; raises PricingError for an empty order
    or lines in different currencies."""
    priced = tuple(price_line(line) for line in lines)
    if not priced:
        raise PricingError("an order needs at least one line")
    currencies = {line.currency for line in priced}
    if len(currencies) != 1:
        raise PricingError(f"lines in different currencies: {sorted(currencies)}")
    return OrderPrice(priced, sum(line.line_total for line in priced), priced[0].currency)


_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


def format_money(amount: int, currency: str) -> str:
    """`450, "GBP"` → `£4.50` (two minor digits; other currencies as `4.50 XYZ`)."""
    sign = "-" if amount < 0 else ""
    major, minor = divmod(abs(amount), 100)
    symbol = _SYMBOLS.get(currency)
    if symbol:
        return f"{sign}{symbol}{major}.{minor:02d}"
    return f"{sign}{major}.{minor:02d} {currency}"
