"""The web client's pages as the server renders them first (issue 16): usable before Python is.

`GET /`, `/product/<id>`, `/cart`, … answer the shell page with that page's HTML
already in it, rendered by the web client's own views (`coffeeshop_client.views`,
imported from the app archive the browser runs, so one codebase renders on both sides).
The menu can be browsed, customised and added to the cart with plain HTML forms
(`POST /cart/lines`) while Pyodide loads; the cart travels in a cookie both sides read
(`coffeeshop_client.cart.CART_COOKIE`), so Python finds it when it takes the page over.

Pages that need the person's data (orders, the queue, the manager's pages) are
rendered as the client shows them while it loads them: their first paint is the frame.
"""

from __future__ import annotations

import json
import threading
import time
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST, require_safe

from bff_site.clients import order as order_client
from bff_site.gateway import selectors
from bff_site.sessions.services import session_user
from bff_site.web.apps import WebConfig
from shared.problems import DomainError, Unavailable

if TYPE_CHECKING:
    from coffeeshop_client.cart import Cart
    from coffeeshop_client.models import Menu
    from coffeeshop_client.state import State

# The pages rendered in full. The others (checkout with its card form, the staff and
# manager pages) get the frame and a loading line: they work only once Python runs.
RENDERED = frozenset({"menu", "product", "cart", "orders", "order"})
# Rendered with the signed-in person's orders (coffeeshop_client.app.ORDERS_FIRST).
ORDERS_FIRST = frozenset({"menu", "orders"})
# A cookie over ~4 KB is dropped by the browser: refuse the line that would not fit.
MAX_CART_COOKIE = 3800
CART_COOKIE_SECONDS = 30 * 24 * 3600

_parsed_lock = threading.Lock()
_parsed: tuple[bytes, Menu] | None = None  # the last menu parsed, by its JSON


def _menu() -> Menu | None:
    """The cached menu as the client's model (parsed once per menu version), or None
    while Order is unavailable and no copy was ever cached."""
    global _parsed
    from coffeeshop_client.models import Menu

    try:
        body, _stale = selectors.menu_json()
    except Unavailable:
        return None
    with _parsed_lock:
        if _parsed is not None and _parsed[0] == body:
            return _parsed[1]
    menu = Menu.from_json(json.loads(body))
    with _parsed_lock:
        _parsed = (body, menu)
    return menu


def _cart(request: HttpRequest) -> Cart:
    from coffeeshop_client.cart import CART_COOKIE, Cart

    return Cart.from_token(request.COOKIES.get(CART_COOKIE))


def _state(request: HttpRequest, path: str) -> State:
    """What the client's state would be once it had loaded: session, menu, cart, route."""
    from coffeeshop_client import customize, router
    from coffeeshop_client.models import Session
    from coffeeshop_client.state import State

    user = session_user(session=request.session)
    roles = (user or {}).get("roles", [])
    state = State(
        route=router.parse(path),
        session=Session.from_json(
            {
                "authenticated": user is not None,
                "user": user,
                "csrf_token": get_token(request),
                "admin_url": f"{settings.ORDER_PUBLIC_URL}/admin/" if "manager" in roles else None,
            }
        ),
        session_loaded=True,
        menu=_menu(),
        now=time.time(),
        cart=_cart(request),
    )
    if user is not None and state.route.name in ORDERS_FIRST:
        _with_orders(state, user)
    if user is not None and state.route.name == "menu":
        _with_favourites(state, user)
    if state.route.name == "product" and state.menu is not None:
        product = state.menu.product(_int(state.route.params.get("id")))
        if product is not None:
            state.selection = customize.default_selection(product)
    return state


def _assets() -> Any:
    """The built client's files (None: not built, so its views are not importable)."""
    config = apps.get_app_config("web")
    return config.assets if isinstance(config, WebConfig) else None


def _unbuilt(request: HttpRequest) -> HttpResponse:
    response = render(request, "web/unbuilt.html", status=503)
    response["Retry-After"] = "30"
    response["Cache-Control"] = "no-store"
    return response


def _with_orders(state: State, user: dict[str, Any]) -> None:
    """The person's orders, as the client loads them before its first render (the menu
    shows those in progress); left out quietly when Order does not answer."""
    from coffeeshop_client.models import Order

    try:
        orders = [Order.from_json(o) for o in order_client.order_list(user=user)]
    except DomainError:
        return
    state.orders = {o.id: o for o in orders}
    state.order_ids = [o.id for o in orders]
    state.orders_loaded = True


def _with_favourites(state: State, user: dict[str, Any]) -> None:
    """The person's saved drinks, as the client loads them before its first render (the
    menu shows them with "Add"); left out quietly when Order does not answer."""
    from coffeeshop_client.models import Favourite

    try:
        favourites = [Favourite.from_json(f) for f in order_client.favourites(user=user)]
    except DomainError:
        return
    state.favourites = favourites
    state.favourites_loaded = True


def _page(request: HttpRequest, state: State, *, status: int = 200) -> HttpResponse:
    from coffeeshop_client import views

    context: dict[str, Any] = {"assets": _assets()}
    if state.menu is not None:
        # The views escape every value they are given (coffeeshop_client.html).
        html = views.page(state) if state.route.name in RENDERED else views.loading()
        nav = views.nav(state)
        context["nav_html"] = mark_safe(nav)  # noqa: S308
        context["page_html"] = mark_safe(html)  # noqa: S308
        # Python keeps this DOM as it is when its first render is the same.
        context["rendered"] = views.fingerprint(nav, html, state.session.csrf_token)
    response = render(request, "web/shell.html", context, status=status)
    # The page names versioned files and the person's own cart and session, so it is
    # never cached: no-store also keeps it out of the back-forward cache, so Back after
    # sign-out shows nothing private.
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def page(request: HttpRequest, **_params: object) -> HttpResponse:
    """Any of the client's pages, its first HTML rendered here."""
    if _assets() is None:
        return _unbuilt(request)
    from coffeeshop_client import views

    state = _state(request, request.get_full_path())
    added = request.GET.get("added")
    if added and state.menu is not None:
        product = state.menu.product(_int(added))
        if product is not None:
            state.notice = views.added_notice(product.name, max(1, _int(request.GET.get("qty"))))
    return _page(request, state)


@require_POST
def add_line(request: HttpRequest) -> HttpResponse:
    """A line for the cart from the menu's or a product page's plain form, before Python
    runs the page: checked against the menu, added to the cart cookie, then back to the
    page it came from (303). A choice the menu does not offer is a 400 with the product
    page saying why; nothing is added."""
    if _assets() is None:
        return _unbuilt(request)
    from coffeeshop_client import customize, router
    from coffeeshop_client.cart import CART_COOKIE

    # Any page but the two rendered with the person's orders: none are shown here.
    state = _state(request, "/cart")
    menu = state.menu
    if menu is None:
        return _page(request, state, status=503)
    form = request.POST
    product = menu.product(_int(form.get("product")))
    if product is None:
        state.route = router.Route("product", {"id": str(form.get("product", ""))})
        return _page(request, state, status=400)
    # Back to one of the app's own pages, rebuilt from the route it names: never the
    # string as sent ("//cart" would be another host).
    back = router.match(str(form.get("next") or "/"))
    next_path = router.href(back.name, **back.params) if back is not None else "/"
    if "quantity" not in form:  # the menu's quick "Add": the card's default choice
        selection = customize.default_selection(product)
        if customize.problems(product, selection):
            return HttpResponseRedirect(router.href("product", id=product.id), status=303)
    else:
        fields = [(name, value) for name, values in form.lists() for value in values]
        selection, unknown = customize.from_form(product, fields)
        state.route = router.Route("product", {"id": str(product.id)})
        state.selection = selection
        if unknown:
            state.problem = _problem(unknown)
            return _page(request, state, status=400)
        if customize.problems(product, selection):
            return _page(request, state, status=400)  # the page lists what is wrong
    cart = state.cart.add(
        selection.product_id, selection.variation_id, selection.option_ids, selection.quantity
    )
    token = cart.to_token()
    if len(token) > MAX_CART_COOKIE:
        state.route = router.Route("cart")
        state.problem = _problem("Your cart is full: check out or remove a line first.")
        return _page(request, state, status=400)
    response = HttpResponseRedirect(
        f"{next_path}?added={product.id}&qty={selection.quantity}", status=303
    )
    response.set_cookie(
        CART_COOKIE,
        token,
        max_age=CART_COOKIE_SECONDS,
        path="/",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=False,  # the client reads it: ids only, nothing secret
        samesite="Lax",
    )
    return response


def _problem(message: str) -> Any:
    from coffeeshop_client.state import Problem

    return Problem(message, status=400)


def _int(value: object) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return 0
