"""Pages as HTML strings, from the app state. Pure functions: tested on CPython.

One module per page (or pair of pages), shared pieces in `components`, and here the
frame: the links bar (`nav`) and which page a route shows (`page`). Nothing here
imports the controller (app.py); the controller calls `nav` and `page` and runs the
`data-action`s they carry (import contract in pyproject.toml).

Conventions the DOM layer relies on:
- a clickable thing carries `data-action` (and its arguments as `data-*`);
  a form carries `data-action` on the <form> and is submitted, never navigated;
- every control has a stable `id`, so focus survives a re-render;
- each page has one <h1 tabindex="-1">, focused on navigation;
- `data-testid` names what the end-to-end tests look for.
"""

from __future__ import annotations

import zlib

from coffeeshop_client import router
from coffeeshop_client.html import Markup, fragment, h
from coffeeshop_client.state import State
from coffeeshop_client.views import manage_menu, manage_orders, manage_report
from coffeeshop_client.views.account import account
from coffeeshop_client.views.cart import cart_page, checkout_page
from coffeeshop_client.views.components import added_notice, loading, notice, problem_banner
from coffeeshop_client.views.menu import menu_page
from coffeeshop_client.views.orders import order_page, orders_page
from coffeeshop_client.views.product import product_page
from coffeeshop_client.views.queue import queue_page

__all__ = ["added_notice", "fingerprint", "loading", "nav", "page"]


def fingerprint(nav_html: str, view_html: str, form_token: str) -> str:
    """What a render shows, to tell whether the page the server rendered already shows
    it. The CSRF token in the forms is left out: each side holds its own masked copy of
    the session's one secret, different strings that are both valid."""
    shown = f"{nav_html}\0{view_html}"
    if form_token:
        shown = shown.replace(form_token, "")
    return format(zlib.crc32(shown.encode()), "08x")


def nav(state: State) -> Markup:
    session = state.session
    count = state.cart.count
    current = state.route.name
    links = [
        ("menu", "Menu", router.href("menu"), None),
        ("cart", f"Cart ({count})", router.href("cart"), "nav-cart"),
    ]
    if session.authenticated:
        links.append(("orders", "My orders", router.href("orders"), "nav-orders"))
    if session.is_staff:
        links.append(("queue", "Queue", router.href("queue"), "nav-queue"))
    if session.is_manager:
        links.append(("manage_menu", "Edit menu", router.href("manage_menu"), "nav-manage-menu"))
        links.append(("manage_report", "Today", router.href("manage_report"), "nav-report"))
        links.append(("manage_orders", "Orders", router.href("manage_orders"), "nav-manage-orders"))
    items = [
        h(
            "li",
            None,
            h(
                "a",
                {
                    "href": href,
                    "data_testid": testid,
                    "aria_current": "page" if current == name else None,
                    "aria_label": f"Cart, {count} items" if name == "cart" else None,
                },
                label,
            ),
        )
        for name, label, href, testid in links
    ]
    if session.is_manager and session.admin_url:
        items.append(
            h("li", None, h("a", {"href": session.admin_url, "data_testid": "nav-admin"}, "Admin"))
        )
    return fragment(h("ul", {"class_": "nav-links"}, items), account(state))


def page(state: State) -> Markup:
    route = state.route.name
    body = {
        "menu": menu_page,
        "product": product_page,
        "cart": cart_page,
        "checkout": checkout_page,
        "orders": orders_page,
        "order": order_page,
        "queue": queue_page,
        "manage_menu": manage_menu.page,
        "manage_report": manage_report.page,
        "manage_report_day": manage_report.page,
        "manage_orders": manage_orders.search_page,
        "manage_order": manage_orders.order_page,
    }.get(route, menu_page)(state)
    return fragment(problem_banner(state), notice(state), body)
