"""The cart (`/cart`) and checkout (`/checkout`): the lines with their prices, the
card form and "Pay"."""

from __future__ import annotations

from coffeeshop_client import prices, reorder, router
from coffeeshop_client.card import DECLINING_TEST_CARD, DEFAULT_TEST_CARD, group
from coffeeshop_client.html import Markup, fragment, h
from coffeeshop_client.models import Menu
from coffeeshop_client.state import State
from coffeeshop_client.views.components import (
    MINUS,
    TIMES,
    button,
    currency_of,
    heading,
    login_href,
    money,
    sign_in_needed,
)


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
    (None while unknown), priced by shared/pricing.py as Order will charge."""
    menu = state.menu
    currency = currency_of(state)
    rows: list[tuple[object, str, str, int | None]] = []
    total: int | None = 0
    for line in state.cart.lines:
        name, details = (
            describe_line(menu, line.product_id, line.variation_id, line.option_ids)
            if menu
            else ("…", "")
        )
        product = menu.product(line.product_id) if menu else None
        line_total: int | None = None
        if product is not None:
            priced = prices.price_line(
                product, line.variation_id, line.option_ids, line.quantity, currency
            )
            line_total = priced[1] if priced else None
        rows.append((line, name, details, line_total))
        total = None if line_total is None or total is None else total + line_total
    return rows, total


def line_problem(state: State, line: object) -> str | None:
    """Why today's menu cannot serve a cart line (None: it can, or the menu is not here)."""
    if state.menu is None:
        return None
    return reorder.line_problem(
        state.menu,
        line.product_id,  # type: ignore[attr-defined]
        line.variation_id,  # type: ignore[attr-defined]
        line.option_ids,  # type: ignore[attr-defined]
    )


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
    currency = currency_of(state)
    rows, total = cart_rows(state)
    items = []
    flagged = 0
    for line, name, details, line_total in rows:
        key = line.key  # type: ignore[attr-defined]
        qty = line.quantity  # type: ignore[attr-defined]
        problem = line_problem(state, line)
        flagged += problem is not None
        items.append(
            h(
                "li",
                {"class_": "cart-line", "data_testid": "cart-line", "data_key": key},
                h(
                    "div",
                    {"class_": "cart-line-text"},
                    h("strong", None, name),
                    h("span", {"class_": "details"}, details) if details else None,
                    # Kept and said, never dropped: "Order again" of a drink since sold out.
                    h(
                        "span",
                        {"class_": "line-problem", "data_testid": "cart-line-problem"},
                        problem,
                        " Remove it, or add it again as it is now.",
                    )
                    if problem
                    else None,
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
            "span",
            {"class_": "hint", "data_testid": "checkout-blocked"},
            "Remove the line that needs a look to check out."
            if flagged == 1
            else f"Remove the {flagged} lines that need a look to check out.",
        )
        if flagged
        else h(
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
        total_bar(total, currency, checkout),
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
    currency = currency_of(state)
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
            {
                # POST, never GET: were it ever submitted natively (before Python runs
                # the page), the card would otherwise land in the URL. The BFF's pages
                # are GET-only and never render this form (bff_site/gateway/pages.py).
                "method": "post",
                "class_": "pay",
                "data_action": "checkout",
                "novalidate": True,
                "id": "pay-form",
            },
            cup_fields(state),
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
            total_bar(
                total,
                currency,
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


def total_bar(total: int | None, currency: str, action: Markup) -> Markup:
    """The cart's total ("…" while it is not known yet) and the button that goes on."""
    return h(
        "div",
        {"class_": "total-bar"},
        h("span", None, "Total "),
        h(
            "strong",
            {"class_": "price", "data_testid": "cart-total"},
            money(total, currency) if total is not None else "…",
        ),
        action,
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


CUP_NAME_MAX = 20  # Order's limits (order_site/orders/models.py)
NOTE_MAX = 140


def cup_fields(state: State) -> Markup:
    """The name for the cup and a note for the barista, both optional (issue 17)."""

    def field(name: str, label: str, value: str, limit: int, placeholder: str) -> Markup:
        input_id = name.replace("_", "-")
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
                    "maxlength": limit,
                    "autocomplete": "given-name" if name == "cup_name" else "off",
                    "placeholder": placeholder,
                    "value": value,
                    "data_action": "card-input",
                    "data_field": name,
                    "data_testid": input_id,
                },
            ),
        )

    return h(
        "div",
        {"class_": "cup-fields"},
        field("cup_name", "Name for the cup (optional)", state.cup_name, CUP_NAME_MAX, "Sam"),
        field(
            "note",
            "Note for the barista (optional)",
            state.note,
            NOTE_MAX,
            "Extra hot, please",
        ),
    )
