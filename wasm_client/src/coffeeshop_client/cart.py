"""The cart: lines of product + size + options + quantity, kept in the browser.

It stores ids only (what `POST /api/orders` takes); names and prices come from
the menu at render time, so a stale cart never shows a stale price.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, replace
from typing import Any

from shared.pricing import MAX_QUANTITY, MIN_QUANTITY  # Order's own bounds

# The cookie the cart travels in, so the BFF's server-rendered pages (and their plain
# forms, before Python has loaded) and the client share one cart. Ids only: no secret.
CART_COOKIE = "coffeeshop_cart"


@dataclass(frozen=True)
class CartLine:
    product_id: int
    variation_id: int | None
    option_ids: tuple[int, ...]
    quantity: int = 1

    @property
    def key(self) -> str:
        """Lines with the same product, size and options merge into one."""
        options = ",".join(str(o) for o in self.option_ids)
        return f"{self.product_id}:{self.variation_id or ''}:{options}"

    def to_api(self) -> dict[str, Any]:
        return {
            "product_id": self.product_id,
            "variation_id": self.variation_id,
            "option_ids": list(self.option_ids),
            "quantity": self.quantity,
        }


def clamp_quantity(quantity: int) -> int:
    return max(MIN_QUANTITY, min(MAX_QUANTITY, quantity))


@dataclass(frozen=True)
class Cart:
    lines: tuple[CartLine, ...] = ()

    @property
    def count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def is_empty(self) -> bool:
        return not self.lines

    def add(
        self,
        product_id: int,
        variation_id: int | None,
        option_ids: tuple[int, ...] | list[int] = (),
        quantity: int = 1,
    ) -> Cart:
        """A cart with the line added, merged into an identical line if there is one
        (quantity capped at 20, what Order accepts per line)."""
        line = CartLine(product_id, variation_id, tuple(sorted(set(option_ids))), quantity)
        lines = list(self.lines)
        for index, existing in enumerate(lines):
            if existing.key == line.key:
                lines[index] = replace(
                    existing, quantity=clamp_quantity(existing.quantity + quantity)
                )
                return Cart(tuple(lines))
        return Cart((*lines, replace(line, quantity=clamp_quantity(quantity))))

    def set_quantity(self, key: str, quantity: int) -> Cart:
        """Quantity 0 or less removes the line; more than 20 is capped."""
        if quantity <= 0:
            return self.remove(key)
        return Cart(
            tuple(
                replace(line, quantity=clamp_quantity(quantity)) if line.key == key else line
                for line in self.lines
            )
        )

    def change_quantity(self, key: str, by: int) -> Cart:
        line = self.line(key)
        if line is None:
            return self
        return self.set_quantity(key, line.quantity + by)

    def remove(self, key: str) -> Cart:
        return Cart(tuple(line for line in self.lines if line.key != key))

    def line(self, key: str) -> CartLine | None:
        return next((line for line in self.lines if line.key == key), None)

    def to_api(self) -> list[dict[str, Any]]:
        return [line.to_api() for line in self.lines]

    def dumps(self) -> str:
        return json.dumps(self.to_api(), separators=(",", ":"))

    def to_token(self) -> str:
        """The cart as a cookie value (base64url of `dumps`, no padding)."""
        return base64.urlsafe_b64encode(self.dumps().encode()).decode().rstrip("=")

    @classmethod
    def from_token(cls, token: str | None) -> Cart:
        """The cart `to_token` wrote; anything unreadable gives an empty cart."""
        if not token:
            return cls()
        try:
            text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        except (ValueError, binascii.Error):
            return cls()
        return cls.loads(text)

    @classmethod
    def loads(cls, text: str | None) -> Cart:
        """The cart saved by `dumps`; anything unreadable gives an empty cart."""
        if not text:
            return cls()
        try:
            data = json.loads(text)
            cart = cls()
            for item in data:
                variation = item.get("variation_id")
                cart = cart.add(
                    int(item["product_id"]),
                    int(variation) if variation is not None else None,
                    tuple(int(o) for o in item.get("option_ids") or ()),
                    int(item.get("quantity") or 1),
                )
            return cart
        except (ValueError, TypeError, KeyError, AttributeError):
            return cls()
