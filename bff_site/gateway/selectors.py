"""Reads the BFF composes for the client: the cached menu, cart prices, the profile."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import cache

from bff_site.clients import identity as identity_client
from bff_site.clients import order as order_client
from shared.cart import (
    INVALID_FIELDS,
    UNKNOWN_FIELD,
    CartInvalid,
    cart_check,
    cart_lines_parse,
    catalogue_from_menu,
    field_name,
)
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


def cart_price(*, body: dict[str, Any]) -> dict[str, Any]:
    """Price a cart with the validator and pricing Order places with (shared/cart.py).

    Raises CartInvalid for what Order would refuse, with Order's field names and
    words, and for any field but `lines` (nothing unchecked is echoed back). The
    answer holds only checked data.
    """
    unknown = sorted(name for name in body if name != "lines")
    if unknown:
        raise CartInvalid(
            INVALID_FIELDS, {field_name(name): [UNKNOWN_FIELD] for name in unknown[:5]}
        )
    lines = cart_lines_parse(body.get("lines"), present="lines" in body)
    data, _ = menu()
    checked = cart_check(lines=lines, catalogue=catalogue_from_menu(data))
    return {
        "currency": checked.currency,
        "total": checked.total,
        "lines": [
            {**line.line.to_json(), "unit_price": line.unit_price, "line_total": line.line_total}
            for line in checked.lines
        ],
    }


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
