"""Pages as HTML strings, from the app state. Pure functions: tested on CPython.

Conventions the DOM layer relies on:
- a clickable thing carries `data-action` (and its arguments as `data-*`);
  a form carries `data-action` on the <form> and is submitted, never navigated;
- every control has a stable `id`, so focus survives a re-render;
- each page has one <h1 tabindex="-1">, focused on navigation;
- `data-testid` names what the end-to-end tests look for.
"""

from __future__ import annotations

from urllib.parse import quote

from coffeeshop_client import (
    allergens,
    customize,
    manage_orders,
    menu_manager,
    prices,
    report,
    router,
    statuses,
)
from coffeeshop_client.card import DECLINING_TEST_CARD, DEFAULT_TEST_CARD, group
from coffeeshop_client.html import Markup, fragment, h
from coffeeshop_client.models import Menu, Order, Product
from coffeeshop_client.state import State

TIMES = "\u00d7"  # the multiplication sign, as in "2 x Latte"
MINUS = "\u2212"  # a real minus sign on the "one fewer" buttons


def money(amount: int, currency: str) -> str:
    return prices.format_money(amount, currency)


def _currency(state: State) -> str:
    return state.menu.currency if state.menu else "GBP"


def login_href(next_fragment: str = "") -> str:
    target = "/" + next_fragment if next_fragment else "/"
    return "/auth/login?next=" + quote(target, safe="/")


def button(
    label: object, action: str, *, id: str, testid: str | None = None, **data: object
) -> Markup:
    attrs: dict[str, str | int | bool | None] = {
        "type": "button",
        "id": id,
        "class_": str(data.pop("class_", "btn")),
        "data_action": action,
        "data_testid": testid,
        "disabled": bool(data.pop("disabled", False)),
        "aria_label": data.pop("aria_label", None),  # type: ignore[dict-item]
    }
    for key, value in data.items():
        attrs["data_" + key] = None if value is None else str(value)
    return h("button", attrs, label)


# ---- navigation --------------------------------------------------------------


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
    if not state.session_loaded:
        account = Markup("")
    elif session.authenticated and session.user is not None:
        account = h(
            "div",
            {"class_": "account"},
            h("span", {"class_": "who", "data_testid": "user-name"}, session.user.name),
            h(
                "form",
                {
                    "method": "post",
                    "action": "/auth/logout",
                    "class_": "inline",
                    "data_sign_out": "1",
                },
                h(
                    "input",
                    {"type": "hidden", "name": "csrfmiddlewaretoken", "value": session.csrf_token},
                ),
                h(
                    "button",
                    {
                        "type": "submit",
                        "class_": "btn btn-quiet",
                        "id": "sign-out",
                        "data_testid": "sign-out",
                    },
                    "Sign out",
                ),
            ),
        )
    else:
        account = h(
            "div",
            {"class_": "account"},
            h(
                "a",
                {"href": login_href(), "class_": "btn btn-quiet", "data_testid": "sign-in"},
                "Sign in",
            ),
            h(
                "a",
                {"href": "/auth/register", "class_": "btn", "data_testid": "register"},
                "Register",
            ),
        )
    return fragment(h("ul", {"class_": "nav-links"}, items), account)


# ---- page frame ----------------------------------------------------------------


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
        "manage_menu": menu_manager.page,
        "manage_report": report.page,
        "manage_report_day": report.page,
        "manage_orders": manage_orders.search_page,
        "manage_order": manage_orders.order_page,
    }.get(route, menu_page)(state)
    return fragment(problem_banner(state), notice(state), body)


def problem_banner(state: State) -> Markup:
    problem = state.problem
    if problem is None:
        return Markup("")
    actions = []
    if problem.status == 401:
        actions.append(
            h(
                "a",
                {
                    "class_": "btn",
                    "href": login_href(router.href(state.route.name, **state.route.params)),
                },
                "Sign in",
            )
        )
    if problem.retry:
        actions.append(
            button(
                "Try again",
                "retry",
                id="problem-retry",
                testid="error-retry",
                disabled=problem.waiting,
            )
        )
    actions.append(button("Dismiss", "dismiss", id="problem-dismiss", class_="btn btn-quiet"))
    return h(
        "div",
        {"class_": "banner banner-bad", "role": "alert", "data_testid": "error-banner"},
        h("p", None, problem.message),
        h("div", {"class_": "banner-actions"}, actions),
    )


def notice(state: State) -> Markup:
    if not state.notice:
        return Markup("")
    return h(
        "div",
        {"class_": "banner banner-good", "data_testid": "notice"},
        h("p", None, state.notice, " ", h("a", {"href": router.href("cart")}, "View cart")),
    )


def heading(text: str, *, testid: str | None = None) -> Markup:
    # The id lets focus come back to the heading when a page re-renders after loading.
    return h("h1", {"id": "page-heading", "tabindex": "-1", "data_testid": testid}, text)


def loading(text: str = "Loading…") -> Markup:
    return h("p", {"class_": "loading", "role": "status"}, h("span", {"class_": "spinner"}), text)


def sign_in_needed(what: str, next_fragment: str) -> Markup:
    return h(
        "div",
        {"class_": "panel"},
        h("p", None, f"Sign in to {what}."),
        h(
            "p",
            None,
            h("a", {"class_": "btn", "href": login_href(next_fragment)}, "Sign in"),
            " ",
            h("a", {"class_": "btn btn-quiet", "href": "/auth/register"}, "Create an account"),
        ),
    )


# ---- menu ------------------------------------------------------------------------


def menu_page(state: State) -> Markup:
    if state.menu is None:
        return fragment(heading("Menu"), loading("Loading the menu…") if state.loading else "")
    currency = state.menu.currency
    sections = [
        h(
            "section",
            {"class_": "category", "aria_labelledby": f"cat-{cat.id}"},
            h("h2", {"id": f"cat-{cat.id}"}, cat.name),
            h("ul", {"class_": "products"}, [product_card(p, currency) for p in cat.products]),
        )
        for cat in state.menu.categories
    ]
    if not sections:
        sections = [h("p", None, "The menu is empty right now.")]
    return fragment(heading("Menu"), active_orders(state), sections)


def active_orders(state: State) -> Markup:
    """A customer's orders still in progress, on top of the menu: where is my coffee?"""
    live = [
        state.orders[i]
        for i in state.order_ids
        if i in state.orders and statuses.is_live(state.orders[i].status)
    ][:3]
    if not live:
        return Markup("")
    return h(
        "ul",
        {"class_": "active-orders", "aria_label": "Your orders in progress"},
        [
            h(
                "li",
                {"class_": "active-order", "data_testid": "active-order", "data_order_id": o.id},
                h("a", {"href": router.href("order", id=o.id)}, f"Order {o.pickup}"),
                " ",
                status_badge(o.status),
            )
            for o in live
        ],
    )


def card_price(product: Product, currency: str) -> int:
    """The price of what the card's "Add" puts in the cart (the default choice): the
    price shown is the price charged."""
    selection = customize.default_selection(product)
    priced = prices.price_line(
        product, selection.variation_id, selection.option_ids, selection.quantity, currency
    )
    return priced[0] if priced else product.base_price


def product_card(product: Product, currency: str) -> Markup:
    sold_out = not product.is_available
    return h(
        "li",
        {
            "class_": "product" + (" is-sold-out" if sold_out else ""),
            "data_testid": "menu-item",
            "data_product_id": product.id,
            "data_product_name": product.name,
        },
        h("h3", None, product.name),
        h("p", {"class_": "description"}, product.description) if product.description else None,
        h("p", {"class_": "allergens"}, allergens.product_line(product))
        if product.allergens
        else None,
        h(
            "div",
            {"class_": "product-foot"},
            h(
                "span",
                {"class_": "price", "data_testid": "menu-price"},
                money(card_price(product, currency), currency),
            ),
            h("span", {"class_": "sold-out"}, "Sold out")
            if sold_out
            else fragment(
                h(
                    "a",
                    {
                        "class_": "btn btn-quiet",
                        "href": router.href("product", id=product.id),
                        "aria_label": f"Customise {product.name}",
                        "data_testid": "customise",
                    },
                    "Customise",
                ),
                button(
                    "Add",
                    "quick-add",
                    id=f"quick-add-{product.id}",
                    testid="quick-add",
                    product=product.id,
                    aria_label=f"Add {product.name} to cart",
                ),
            ),
        ),
    )


def product_page(state: State) -> Markup:
    if state.menu is None:
        return fragment(heading("Menu"), loading())
    product = state.menu.product(int(state.route.params.get("id", "0") or 0))
    selection = state.selection
    if product is None or selection is None or selection.product_id != product.id:
        return fragment(
            heading("Not on the menu"),
            h("p", None, h("a", {"href": router.href("menu")}, "Back to the menu")),
        )
    currency = state.menu.currency
    parts: list[Markup] = []
    if product.variations:
        # Each group of choices is a fieldset named by its own legend, from the menu's
        # data ("Flavour", "Size" …), so a screen reader tells the groups apart.
        none_variation = (
            []
            if product.variation_required
            else [
                choice_input(
                    "radio",
                    "variation-none",
                    "variation",
                    "None",
                    "",
                    checked=selection.variation_id is None,
                    disabled=False,
                    action="choose-variation",
                    value=0,
                )
            ]
        )
        parts.append(
            h(
                "fieldset",
                {"class_": "choices", "data_testid": "choice-group"},
                h(
                    "legend",
                    {"id": "legend-variation"},
                    product.variation_label,
                    " ",
                    h("span", {"class_": "hint"}, customize.variation_hint(product)),
                ),
                none_variation,
                [
                    choice_input(
                        "radio",
                        f"variation-{v.id}",
                        "variation",
                        v.name,
                        prices.format_delta(v.price_delta, currency),
                        checked=v.id == selection.variation_id,
                        disabled=not v.is_available,
                        action="choose-variation",
                        value=v.id,
                    )
                    for v in product.variations
                ],
            )
        )
    for grp in product.option_groups:
        optional_radio = customize.is_optional_single_choice(grp)
        kind = "radio" if grp.is_single_choice else "checkbox"
        in_group = {o.id for o in grp.options}
        none_option = (
            [
                choice_input(
                    "radio",
                    f"group-{grp.id}-none",
                    f"group-{grp.id}",
                    "None",
                    "",
                    checked=not in_group.intersection(selection.option_ids),
                    disabled=False,
                    action="clear-group",
                    value=grp.id,
                )
            ]
            if optional_radio
            else []
        )
        parts.append(
            h(
                "fieldset",
                {"class_": "choices", "data_testid": "choice-group"},
                h(
                    "legend",
                    {"id": f"legend-group-{grp.id}"},
                    grp.name,
                    " ",
                    h("span", {"class_": "hint"}, customize.group_hint(grp)),
                ),
                none_option,
                [
                    choice_input(
                        kind,
                        f"option-{o.id}",
                        f"group-{grp.id}",
                        o.name,
                        prices.format_delta(o.price_delta, currency),
                        checked=o.id in selection.option_ids,
                        disabled=not o.is_available,
                        action="toggle-option",
                        value=o.id,
                    )
                    for o in grp.options
                ],
            )
        )
    problems = customize.problems(product, selection)
    priced = prices.price_line(
        product, selection.variation_id, selection.option_ids, selection.quantity, currency
    )
    live_price = money(priced[1], currency) if priced else "Price at checkout"
    return fragment(
        h("p", {"class_": "crumbs"}, h("a", {"href": router.href("menu")}, "← Menu")),
        heading(product.name, testid="product-name"),
        h("p", {"class_": "description"}, product.description) if product.description else None,
        # The allergens of the drink as chosen: changes with the milk (shared/allergens.py).
        h(
            "p",
            {"class_": "allergens", "data_testid": "allergens", "aria_live": "polite"},
            allergens.chosen_line(product, selection),
        ),
        h(
            "div",
            {"class_": "customise"},
            parts,
            h(
                "div",
                {"class_": "quantity", "role": "group", "aria_labelledby": "qty-label"},
                h("span", {"id": "qty-label"}, "Quantity"),
                button(
                    MINUS,
                    "selection-quantity",
                    id="qty-down",
                    by=-1,
                    aria_label="One fewer",
                    disabled=selection.quantity <= 1,
                ),
                h(
                    "output",
                    {"id": "qty", "data_testid": "quantity", "aria_live": "polite"},
                    selection.quantity,
                ),
                button(
                    "+",
                    "selection-quantity",
                    id="qty-up",
                    by=1,
                    aria_label="One more",
                    disabled=selection.quantity >= 20,
                ),
            ),
            h(
                "ul",
                {"class_": "problems", "data_testid": "selection-problems"},
                [h("li", None, p) for p in problems],
            )
            if problems
            else None,
            h(
                "div",
                {"class_": "add-bar"},
                h(
                    "span",
                    {"class_": "price", "data_testid": "live-price", "aria_live": "polite"},
                    live_price,
                ),
                button(
                    "Add to cart",
                    "add-to-cart",
                    id="add-to-cart",
                    testid="add-to-cart",
                    class_="btn btn-primary",
                    disabled=bool(problems),
                ),
            ),
        ),
    )


def choice_input(
    kind: str,
    id: str,
    name: str,
    label: str,
    delta: str,
    *,
    checked: bool,
    disabled: bool,
    action: str,
    value: int,
) -> Markup:
    return h(
        "label",
        {"class_": "choice" + (" is-disabled" if disabled else ""), "for_": id},
        h(
            "input",
            {
                "type": kind,
                "id": id,
                "name": name,
                "value": value,
                "checked": checked,
                "disabled": disabled,
                "data_action": action,
                "data_id": value,
            },
        ),
        h("span", {"class_": "choice-name"}, label),
        h("span", {"class_": "choice-delta"}, delta) if delta else None,
        h("span", {"class_": "choice-note"}, "(unavailable)") if disabled else None,
    )


# ---- cart and checkout ------------------------------------------------------------------


def describe_line(
    menu: Menu, product_id: int, variation_id: int | None, option_ids: tuple[int, ...]
) -> tuple[str, str]:
    product = menu.product(product_id)
    if product is None:
        return "An item no longer on the menu", ""
    details = []
    variation = product.variation(variation_id)
    if variation is not None:
        details.append(variation.name)
    for option_id in option_ids:
        found = product.find_option(option_id)
        if found is not None:
            details.append(found[1].name)
    return product.name, ", ".join(details)


def cart_rows(state: State) -> tuple[list[tuple[object, str, str, int | None]], int | None]:
    """For each cart line (line, name, details, line total or None), and the cart total
    (None while unknown). Local prices come from shared/pricing.py; otherwise from
    the BFF's quote."""
    menu = state.menu
    currency = _currency(state)
    rows: list[tuple[object, str, str, int | None]] = []
    total: int | None = 0
    quote_lines = (state.quote or {}).get("lines") or []
    for index, line in enumerate(state.cart.lines):
        name, details = (
            describe_line(menu, line.product_id, line.variation_id, line.option_ids)
            if menu
            else ("…", "")
        )
        product = menu.product(line.product_id) if menu else None
        line_total: int | None = None
        if prices.local_pricing_available() and product is not None:
            priced = prices.price_line(
                product, line.variation_id, line.option_ids, line.quantity, currency
            )
            line_total = priced[1] if priced else None
        elif index < len(quote_lines):
            line_total = int(quote_lines[index].get("line_total") or 0)
        rows.append((line, name, details, line_total))
        total = None if line_total is None or total is None else total + line_total
    if not prices.local_pricing_available() and state.quote is not None:
        total = int(state.quote.get("total") or 0)
    return rows, total


def cart_page(state: State) -> Markup:
    if state.cart.is_empty:
        return fragment(
            heading("Your cart"),
            h(
                "div",
                {"class_": "panel", "data_testid": "cart-empty"},
                h("p", None, "Your cart is empty."),
                h(
                    "p",
                    None,
                    h("a", {"class_": "btn", "href": router.href("menu")}, "Browse the menu"),
                ),
            ),
        )
    currency = _currency(state)
    rows, total = cart_rows(state)
    items = []
    for line, name, details, line_total in rows:
        key = line.key  # type: ignore[attr-defined]
        qty = line.quantity  # type: ignore[attr-defined]
        items.append(
            h(
                "li",
                {"class_": "cart-line", "data_testid": "cart-line", "data_key": key},
                h(
                    "div",
                    {"class_": "cart-line-text"},
                    h("strong", None, name),
                    h("span", {"class_": "details"}, details) if details else None,
                ),
                h(
                    "div",
                    {"class_": "quantity", "role": "group", "aria_label": f"Quantity of {name}"},
                    button(
                        MINUS,
                        "cart-change",
                        id=f"dec-{key}",
                        key=key,
                        by=-1,
                        aria_label=f"One fewer {name}",
                    ),
                    h("span", {"class_": "qty", "data_testid": "cart-line-quantity"}, qty),
                    button(
                        "+",
                        "cart-change",
                        id=f"inc-{key}",
                        key=key,
                        by=1,
                        aria_label=f"One more {name}",
                        disabled=qty >= 20,
                    ),
                ),
                h(
                    "span",
                    {"class_": "price"},
                    money(line_total, currency) if line_total is not None else "…",
                ),
                button(
                    "Remove",
                    "cart-remove",
                    id=f"rm-{key}",
                    key=key,
                    class_="btn btn-quiet",
                    aria_label=f"Remove {name}",
                ),
            )
        )
    checkout = (
        h(
            "a",
            {
                "class_": "btn btn-primary",
                "href": router.href("checkout"),
                "data_testid": "go-to-checkout",
            },
            "Checkout",
        )
        if state.session.authenticated or not state.session_loaded
        else h(
            "a",
            {
                "class_": "btn btn-primary",
                "href": login_href(router.href("checkout")),
                "data_testid": "sign-in-to-checkout",
            },
            "Sign in to check out",
        )
    )
    return fragment(
        heading("Your cart"),
        h("ul", {"class_": "cart-lines"}, items),
        h(
            "div",
            {"class_": "total-bar"},
            h("span", None, "Total "),
            h(
                "strong",
                {"class_": "price", "data_testid": "cart-total"},
                money(total, currency) if total is not None else "…",
            ),
            checkout,
        ),
    )


def checkout_page(state: State) -> Markup:
    if state.session_loaded and not state.session.authenticated:
        return fragment(heading("Checkout"), sign_in_needed("check out", router.href("checkout")))
    if state.cart.is_empty:
        return fragment(
            heading("Checkout"),
            h(
                "p",
                None,
                "Your cart is empty. ",
                h("a", {"href": router.href("menu")}, "Browse the menu"),
            ),
        )
    currency = _currency(state)
    rows, total = cart_rows(state)
    busy = "checkout" in state.busy
    errors = state.card_errors
    number_text = (
        group(state.card_text) if state.card_text.replace(" ", "").isdigit() else state.card_text
    )
    return fragment(
        heading("Checkout"),
        h(
            "ul",
            {"class_": "summary"},
            [
                h(
                    "li",
                    None,
                    f"{line.quantity} {TIMES} {name}" + (f" ({details})" if details else ""),  # type: ignore[attr-defined]
                    h("span", {"class_": "price"}, money(lt, currency) if lt is not None else "…"),
                )
                for line, name, details, lt in rows
            ],
        ),
        h(
            "form",
            {"class_": "pay", "data_action": "checkout", "novalidate": True, "id": "pay-form"},
            card_field(
                "number",
                "Card number",
                "card",
                number_text,
                errors.get("number"),
                autocomplete="cc-number",
                hint_id="card-hint",
                testid="card-number",
            ),
            h(
                "p",
                {"class_": "hint", "id": "card-hint"},
                f"Sandbox payments: {group(DEFAULT_TEST_CARD)} pays, "
                f"{group(DECLINING_TEST_CARD)} is declined; any future expiry date and any "
                "3-digit CVC. Nothing is really charged. Your card goes to the payment "
                "provider only.",
            ),
            h(
                "div",
                {"class_": "card-row"},
                card_field(
                    "expiry",
                    "Expiry (MM/YY)",
                    "expiry",
                    state.card_expiry,
                    errors.get("expiry"),
                    autocomplete="cc-exp",
                    testid="card-expiry",
                    placeholder="MM/YY",
                ),
                card_field(
                    "cvc",
                    "CVC",
                    "cvc",
                    state.card_cvc,
                    errors.get("cvc"),
                    autocomplete="cc-csc",
                    testid="card-cvc",
                ),
            ),
            h(
                "div",
                {"class_": "total-bar"},
                h("span", None, "Total "),
                h(
                    "strong",
                    {"class_": "price", "data_testid": "cart-total"},
                    money(total, currency) if total is not None else "…",
                ),
                h(
                    "button",
                    {
                        "type": "submit",
                        "class_": "btn btn-primary",
                        "id": "pay",
                        "data_testid": "checkout-button",
                        "disabled": busy,
                        "aria_busy": "true" if busy else None,
                    },
                    "Paying…"
                    if busy
                    else ("Pay " + money(total, currency) if total is not None else "Pay"),
                ),
            ),
        ),
    )


def card_field(
    field_name: str,
    label: str,
    name: str,
    value: str,
    error: str | None,
    *,
    autocomplete: str,
    testid: str,
    hint_id: str | None = None,
    placeholder: str | None = None,
) -> Markup:
    """One card input with its label and, when the check or the provider refused it,
    its error right beside it (announced, and tied to the input for screen readers)."""
    input_id = "card" if field_name == "number" else f"card-{field_name}"
    error_id = f"{input_id}-error"
    described = " ".join(filter(None, [hint_id, error_id if error else None]))
    return h(
        "div",
        {"class_": "field"},
        h("label", {"for_": input_id}, label),
        h(
            "input",
            {
                "id": input_id,
                "type": "text",
                "name": name,
                "inputmode": "numeric",
                "autocomplete": autocomplete,
                "placeholder": placeholder,
                "value": value,
                "data_action": "card-input",
                "data_field": field_name,
                "data_testid": testid,
                "aria_describedby": described or None,
                "aria_invalid": "true" if error else None,
            },
        ),
        h(
            "p",
            {
                "class_": "field-error",
                "id": error_id,
                "role": "alert",
                "data_testid": f"{testid}-error",
            },
            error,
        )
        if error
        else None,
    )


# ---- orders ------------------------------------------------------------------------------


def status_badge(status: str) -> Markup:
    return h(
        "span",
        {
            "class_": f"badge badge-{statuses.tone(status)}",
            "data_testid": "order-status",
            "data_status": status,
        },
        statuses.label(status),
    )


def when(iso: str) -> str:
    """`2026-11-25T13:45:12.123Z` → `25 Nov 13:45` (UTC; no time-zone database needed)."""
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    try:
        date, time = iso.split("T")
        _, month, day = date.split("-")
        return f"{int(day)} {months[int(month) - 1]} {time[:5]}"
    except (ValueError, IndexError):
        return iso


def orders_page(state: State) -> Markup:
    if state.session_loaded and not state.session.authenticated:
        return fragment(
            heading("My orders"), sign_in_needed("see your orders", router.href("orders"))
        )
    if not state.orders_loaded:
        return fragment(heading("My orders"), loading("Loading your orders…"))
    orders = [state.orders[i] for i in state.order_ids if i in state.orders]
    if not orders:
        return fragment(
            heading("My orders"),
            h(
                "p",
                None,
                "No orders yet. ",
                h("a", {"href": router.href("menu")}, "Order a coffee"),
            ),
        )
    return fragment(
        heading("My orders"),
        h(
            "ul",
            {"class_": "order-list"},
            [
                h(
                    "li",
                    {"class_": "order-row", "data_testid": "order-row", "data_order_id": o.id},
                    h(
                        "a",
                        {"href": router.href("order", id=o.id)},
                        f"Order {o.pickup}",
                    ),
                    h("span", {"class_": "when"}, when(o.created_at)),
                    status_badge(o.status),
                    h("span", {"class_": "price"}, money(o.total, o.currency)),
                )
                for o in orders
            ],
        ),
    )


def progress(order: Order) -> Markup:
    current = statuses.step_index(order.status)
    return h(
        "ol",
        {"class_": "progress", "aria_label": "Progress"},
        [
            h(
                "li",
                {
                    "class_": "step"
                    + (" is-done" if i < current else "")
                    + (" is-current" if i == current else ""),
                    "aria_current": "step" if i == current else None,
                },
                statuses.label(step),
            )
            for i, step in enumerate(statuses.STEPS)
        ],
    )


def order_page(state: State) -> Markup:
    order_id = state.route.params.get("id", "")
    if state.session_loaded and not state.session.authenticated:
        return fragment(
            heading("Order"), sign_in_needed("see this order", router.href("order", id=order_id))
        )
    order = state.orders.get(order_id)
    if order is None:
        # No number yet: the pickup number comes with the order (never a second name).
        return fragment(heading("Your order"), loading("Loading the order…"))
    declined = order.status == "payment_failed"
    rejected = order.status == "rejected"
    return fragment(
        h("p", {"class_": "crumbs"}, h("a", {"href": router.href("orders")}, "← My orders")),
        heading(f"Order {order.pickup}", testid="order-heading"),
        h("p", {"class_": "status-line"}, "Status: ", status_badge(order.status)),
        progress(order) if statuses.step_index(order.status) >= 0 else None,
        h(
            "p",
            {"class_": "loading", "role": "status"},
            h("span", {"class_": "spinner"}),
            "Taking payment…",
        )
        if order.status == "pending_payment"
        else None,
        h(
            "div",
            {"class_": "banner banner-bad", "role": "alert", "data_testid": "payment-declined"},
            h(
                "p",
                None,
                h("strong", None, "Payment declined: "),
                h(
                    "span",
                    {"data_testid": "failure-reason"},
                    order.failure_reason or "the card was declined.",
                ),
            ),
            h(
                "p",
                None,
                "You have not been charged. Your cart is kept — ",
                h("a", {"href": router.href("checkout")}, "try another card"),
                ".",
            ),
        )
        if declined
        else None,
        h(
            "div",
            {"class_": "banner banner-bad", "role": "alert", "data_testid": "order-rejected"},
            h(
                "p",
                None,
                h("strong", None, "Rejected: "),
                h(
                    "span",
                    {"data_testid": "reject-reason-shown"},
                    order.status_reason or "we could not make it",
                ),
                " — refunded",
            ),
            h("p", None, "The full amount goes back to your card; sorry."),
        )
        if rejected
        else None,
        h(
            "p",
            {"class_": "ready-callout", "data_testid": "ready-callout"},
            "Your order is ready — come and collect it at the counter.",
        )
        if order.status == "ready"
        else None,
        h(
            "ul",
            {"class_": "summary"},
            [
                h(
                    "li",
                    None,
                    f"{line.quantity} {TIMES} {line.product_name}",
                    f" ({', '.join(filter(None, [line.variation_name or '', *line.options]))})"
                    if (line.variation_name or line.options)
                    else "",
                    h("span", {"class_": "price"}, money(line.line_total, order.currency)),
                )
                for line in order.lines
            ],
        ),
        h(
            "p",
            {"class_": "total-line"},
            "Total ",
            h("strong", {"class_": "price"}, money(order.total, order.currency)),
        ),
        cancel_control(state, order),
        h(
            "details",
            {"class_": "history"},
            h("summary", None, "History"),
            h(
                "ol",
                None,
                [
                    h("li", None, f"{when(e.at)} — {statuses.label(e.status)}")
                    for e in order.history
                ],
            ),
        )
        if order.history
        else None,
        live_note(state),
    )


def cancel_control(state: State, order: Order) -> Markup | None:
    """Cancel while it will work (before the charge, or within the paid order's window,
    with the time left); after that, where to go instead."""
    cancel_busy = f"cancel-{order.id}" in state.busy
    if statuses.can_cancel(order, state.now):
        left = statuses.seconds_left(order, state.now)
        return h(
            "div",
            {"class_": "cancel"},
            button(
                "Cancelling…" if cancel_busy else "Cancel order",
                "cancel-order",
                id=f"cancel-{order.id}",
                testid="cancel-order",
                class_="btn btn-danger",
                disabled=cancel_busy,
                order=order.id,
            ),
            h(
                "p",
                {"class_": "hint", "data_testid": "cancel-time-left"},
                f"{statuses.time_left(left)} left to cancel for a full refund.",
            )
            if left is not None
            else None,
        )
    if order.status in statuses.ASK_AT_COUNTER:
        return h(
            "p",
            {"class_": "hint", "data_testid": "cancel-ask-counter"},
            "To cancel this order, ask at the counter.",
        )
    return None


def live_note(state: State) -> Markup:
    if state.live_mode == "polling":
        return h(
            "p",
            {"class_": "hint", "data_testid": "live-mode"},
            "Checking for updates every few seconds.",
        )
    return Markup("")


# ---- staff queue ----------------------------------------------------------------------------


def queue_page(state: State) -> Markup:
    if not state.session.is_staff:
        if state.session_loaded:
            return fragment(heading("Queue"), h("p", None, "The queue is for baristas."))
        return fragment(heading("Queue"), loading())
    if not state.queue_loaded:
        return fragment(heading("Queue"), loading("Loading the queue…"))
    columns = []
    for status, title in statuses.QUEUE_COLUMNS:
        orders = [o for o in state.queue if o.status == status]
        shown = {o.id for o in orders}
        # The newest arrivals behind pages not loaded yet: always in sight.
        newest = [o for o in state.queue_newest.get(status, []) if o.id not in shown]
        count = state.queue_counts.get(status, len(orders))
        cursor = state.queue_more.get(status)
        busy = f"queue-more-{status}" in state.busy
        columns.append(
            h(
                "section",
                {
                    "class_": "queue-column",
                    "aria_labelledby": f"col-{status}",
                    "data_testid": f"queue-column-{status}",
                },
                h(
                    "h2",
                    {"id": f"col-{status}"},
                    title,
                    " ",
                    h(
                        "span",
                        {"class_": "count", "data_testid": f"queue-count-{status}"},
                        f"({count})",
                    ),
                ),
                # At the top, under the count: behind a backlog the oldest page is a long
                # column, and a new arrival at its foot would be out of sight.
                fragment(
                    h("h3", {"class_": "queue-newest"}, "Newest arrivals"),
                    h(
                        "ol",
                        {"class_": "queue-cards", "data_testid": f"queue-newest-{status}"},
                        [queue_card(state, o) for o in newest],  # the latest on top
                    ),
                    h("h3", {"class_": "queue-newest"}, "Oldest first"),
                )
                if newest
                else "",
                h("ol", {"class_": "queue-cards"}, [queue_card(state, o) for o in orders])
                if orders
                else h("p", {"class_": "empty"}, "Nothing here."),
                button(
                    "Loading…" if busy else f"Show more ({count - len(orders) - len(newest)} more)",
                    "queue-more",
                    id=f"queue-more-{status}",
                    testid="queue-more",
                    disabled=busy,
                    status=status,
                )
                if cursor
                else "",
            )
        )
    return fragment(heading("Queue"), h("div", {"class_": "queue"}, columns), live_note(state))


def queue_card(state: State, order: Order) -> Markup:
    step = statuses.NEXT_STEP.get(order.status)
    busy = f"advance-{order.id}" in state.busy
    return h(
        "li",
        {
            "class_": "queue-card",
            "data_testid": "queue-item",
            "data_order_id": order.id,
            "data_status": order.status,
        },
        h(
            "h3",
            None,
            order.pickup,
            " ",
            h("span", {"class_": "when"}, when(order.created_at)),
        ),
        h(
            "ul",
            {"class_": "queue-lines"},
            [
                h(
                    "li",
                    None,
                    h("strong", None, f"{line.quantity} {TIMES} {line.product_name}"),
                    h(
                        "span",
                        {"class_": "details"},
                        ", ".join(filter(None, [line.variation_name or "", *line.options])),
                    ),
                )
                for line in order.lines
            ],
        ),
        button(
            "Saving…" if busy else step[1],
            "advance",
            id=f"advance-{order.id}",
            testid="advance-button",
            class_="btn btn-primary btn-big",
            disabled=busy,
            to=step[0],
            order=order.id,
        )
        if step
        else None,
        reject_part(state, order),
    )


def reject_part(state: State, order: Order) -> Markup | None:
    """A paid order a barista cannot make: "Reject", then a small form asking why (the
    customer is told, and refunded in full)."""
    if order.status not in statuses.REJECTABLE:
        return None
    if state.rejecting != order.id:
        return button(
            "Reject",
            "reject-open",
            id=f"reject-open-{order.id}",
            testid="reject-button",
            class_="btn btn-quiet",
            order=order.id,
        )
    busy = f"reject-{order.id}" in state.busy
    field_id = f"reject-reason-{order.id}"
    return h(
        "form",
        {
            "class_": "reject-form",
            "data_action": "reject",
            "data_order": order.id,
            "data_testid": "reject-form",
        },
        h("label", {"for_": field_id}, "Why can't we make it? (the customer is told)"),
        h(
            "input",
            {
                "type": "text",
                "id": field_id,
                "name": "reason",
                "required": True,
                "maxlength": statuses.REJECT_REASON_MAX,
                "autofocus": True,
                "placeholder": "Out of oat milk",
                "data_testid": "reject-reason",
            },
        ),
        h(
            "button",
            {
                "type": "submit",
                "id": f"reject-confirm-{order.id}",
                "class_": "btn btn-danger",
                "disabled": busy,
                "data_testid": "reject-confirm",
            },
            "Rejecting…" if busy else "Reject and refund",
        ),
        button(
            "Keep it",
            "reject-close",
            id=f"reject-close-{order.id}",
            testid="reject-keep",
            class_="btn btn-quiet",
        ),
    )
