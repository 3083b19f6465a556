"""Routes are real paths (`/cart`, `/product/3`): the BFF renders each one's first HTML
with the same views (bff_site/gateway/pages.py), and the client then runs it with the
History API. An old fragment link (`/#/cart`) still works: `parse` reads it too."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Route:
    name: str
    params: dict[str, str] = field(default_factory=dict)


# name → fragment pattern; `{x}` is one path segment.
ROUTES = {
    "menu": "/",
    "product": "/product/{id}",
    "cart": "/cart",
    "checkout": "/checkout",
    "orders": "/orders",
    "order": "/orders/{id}",
    "queue": "/queue",
    "manage_menu": "/manage/menu",
    "manage_report": "/manage/report",
    "manage_report_day": "/manage/report/{date}",
    "manage_orders": "/manage/orders",
    "manage_order": "/manage/orders/{id}",
}


def parse(location: str) -> Route:
    """`/orders/12` (or `/orders/12`) → Route("order", {"id": "12"}); anything unknown
    is the menu."""
    return match(location) or Route("menu")


def match(location: str) -> Route | None:
    """The route a path names exactly, or None: what the client may take over without
    asking the server (a link to /auth/login or /admin/ is left to the browser)."""
    path = location.lstrip("#") or "/"
    if not path.startswith("/"):
        path = "/" + path
    parts = [p for p in path.split("?")[0].split("#")[0].split("/") if p]
    for name, pattern in ROUTES.items():
        wanted = [p for p in pattern.split("/") if p]
        if len(wanted) != len(parts):
            continue
        params: dict[str, str] = {}
        for want, got in zip(wanted, parts, strict=True):
            if want.startswith("{"):
                params[want[1:-1]] = got
            elif want != got:
                break
        else:
            return Route(name, params)
    return None


def query(location: str) -> dict[str, str]:
    """The query of a path (`/?added=3&qty=2` → {"added": "3", "qty": "2"}), last value
    of each name."""
    _, _, text = location.lstrip("#").partition("?")
    pairs = (part.partition("=") for part in text.split("#")[0].split("&") if part)
    return {key: value for key, _, value in pairs}


def href(name: str, **params: object) -> str:
    path = ROUTES[name]
    for key, value in params.items():
        path = path.replace("{" + key + "}", str(value))
    return path
