"""Reads the BFF composes for the client: the cached menu, cart prices, the profile."""

from __future__ import annotations

import json
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

# The menu is cached as the JSON the client receives (v2; v1 held the parsed dict): the
# hottest read of the BFF then sends Redis's bytes as they are, with no decoding and
# encoding per request (bench/bff.py; docs/decisions.md).
MENU_KEY = "menu:v2"
MENU_STALE_KEY = "menu:v2:last-good"
MENU_STALE_SECONDS = 7 * 24 * 3600


def menu_json() -> tuple[bytes, bool]:
    """The menu as JSON from Redis, fetched from Order when the cached copy has expired.

    While Order is unavailable the last good copy is served (stale=True) so people
    can still browse; only when there never was one does this raise Unavailable.
    """
    body = cache.get(MENU_KEY)
    if body is not None:
        return bytes(body), False
    try:
        data = order_client.menu()
    except Unavailable:
        stale = cache.get(MENU_STALE_KEY)
        if stale is None:
            raise
        return bytes(stale), True
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    cache.set(MENU_KEY, body, settings.MENU_CACHE_SECONDS)
    cache.set(MENU_STALE_KEY, body, MENU_STALE_SECONDS)
    return body, False


def menu() -> tuple[dict[str, Any], bool]:
    """The menu (menu_json's, parsed) and whether it is the stale copy."""
    body, stale = menu_json()
    return json.loads(body), stale


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
