"""Reads the BFF composes for the client: the cached menu, cart prices, the profile."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import cache

from bff_site.clients import identity as identity_client
from bff_site.clients import order as order_client
from shared.pricing import PricingError, price_order
from shared.problems import Unavailable

MENU_KEY = "menu:v1"
MENU_STALE_KEY = "menu:v1:last-good"
MENU_STALE_SECONDS = 7 * 24 * 3600


def menu() -> tuple[dict[str, Any], bool]:
    """The menu from Redis, fetched from Order when the cached copy has expired.

    While Order is unavailable the last good copy is served (stale=True) so people
    can still browse; only when there never was one does this raise Unavailable.
    """
    data = cache.get(MENU_KEY)
    if data is not None:
        return data, False
    try:
        data = order_client.menu()
    except Unavailable:
        stale = cache.get(MENU_STALE_KEY)
        if stale is None:
            raise
        return stale, True
    cache.set_many({MENU_KEY: data}, settings.MENU_CACHE_SECONDS)
    cache.set(MENU_STALE_KEY, data, MENU_STALE_SECONDS)
    return data, False


def menu_invalidate() -> None:
    cache.delete(MENU_KEY)


def _index(data: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {p["id"]: p for c in data.get("categories", []) for p in c.get("products", [])}


def cart_price(*, lines: Any) -> dict[str, Any]:
    """Price a cart with the same pure function Order uses (shared/pricing.py)."""
    if not isinstance(lines, list) or not lines:
        raise PricingError("lines must be a non-empty list")
    data, _ = menu()
    products = _index(data)
    priced_lines = []
    out = []
    for number, line in enumerate(lines):
        if not isinstance(line, dict):
            raise PricingError(f"line {number} must be an object")
        product = products.get(line.get("product_id"))  # type: ignore[arg-type]
        if product is None:
            raise PricingError(f"line {number}: unknown product {line.get('product_id')!r}")
        variations = {v["id"]: v for v in product.get("variations", [])}
        options = {o["id"]: o for g in product.get("option_groups", []) for o in g["options"]}
        variation_id = line.get("variation_id")
        if variation_id is not None and variation_id not in variations:
            raise PricingError(f"line {number}: unknown variation {variation_id!r}")
        option_ids = line.get("option_ids") or []
        unknown = [o for o in option_ids if o not in options]
        if unknown:
            raise PricingError(f"line {number}: unknown options {unknown!r}")
        quantity = line.get("quantity")
        if not isinstance(quantity, int):
            raise PricingError(f"line {number}: quantity must be a whole number")
        priced_lines.append(
            {
                "base_price": product["base_price"],
                "quantity": quantity,
                "variation_delta": variations[variation_id]["price_delta"] if variation_id else 0,
                "option_deltas": [options[o]["price_delta"] for o in option_ids],
                "currency": data.get("currency", "GBP"),
            }
        )
        out.append(dict(line))
    result = price_order(priced_lines)
    for line, price in zip(out, result.lines, strict=True):
        line["unit_price"] = price.unit_price
        line["line_total"] = price.line_total
    return {"currency": result.currency, "total": result.total, "lines": out}


def profile(*, user: dict[str, Any], access_token: str) -> dict[str, Any]:
    """Identity's current data about the user (its userinfo endpoint, with the user's own
    access token: what they changed since signing in shows at once) and Order's view of
    their orders (count, newest), in one answer. Raises IdentityError when Identity
    answers for someone else or refuses, Unavailable when either service is down."""
    claims = identity_client.userinfo(access_token=access_token)
    if str(claims.get("sub")) != str(user["id"]):
        raise identity_client.IdentityError("userinfo answered for another user")
    roles = claims.get("roles") or []
    return {
        "user": {
            "id": str(claims["sub"]),
            "email": str(claims.get("email") or ""),
            "name": str(claims.get("name") or claims.get("email") or ""),
            "roles": list(roles) if isinstance(roles, list) else [str(roles)],
        },
        **order_client.order_summary(user=user),
    }
