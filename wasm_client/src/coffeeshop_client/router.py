"""Routes live in the URL fragment (`/#/cart`), so the BFF serves only `/`."""

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


def parse(fragment: str) -> Route:
    """`#/orders/12` → Route("order", {"id": "12"}); anything unknown is the menu."""
    path = fragment.lstrip("#") or "/"
    if not path.startswith("/"):
        path = "/" + path
    parts = [p for p in path.split("?")[0].split("/") if p]
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
    return Route("menu")


def href(name: str, **params: object) -> str:
    path = ROUTES[name]
    for key, value in params.items():
        path = path.replace("{" + key + "}", str(value))
    return "#" + path
