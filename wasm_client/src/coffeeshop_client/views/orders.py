"""A customer's orders (`/orders`) and one order (`/orders/<id>`): its progress, its
lines, and "Cancel" while the cancel window is open."""

from __future__ import annotations

from coffeeshop_client import router, statuses
from coffeeshop_client.html import Markup, fragment, h
from coffeeshop_client.models import Order, OrderLine
from coffeeshop_client.state import State
from coffeeshop_client.views.components import (
    TIMES,
    button,
    heading,
    live_note,
    loading,
    money,
    sign_in_needed,
    status_badge,
    when,
)


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
                    order_again_button(o),
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
        cup_and_note(order),
        h(
            "ul",
            {"class_": "summary"},
            [
                h(
                    "li",
                    {"data_testid": "order-line"},
                    h(
                        "span",
                        {"class_": "line-text"},
                        f"{line.quantity} {TIMES} {line.product_name}",
                        f" ({', '.join(filter(None, [line.variation_name or '', *line.options]))})"
                        if (line.variation_name or line.options)
                        else "",
                    ),
                    save_usual_button(state, order, index, line),
                    h("span", {"class_": "price"}, money(line.line_total, order.currency)),
                )
                for index, line in enumerate(order.lines)
            ],
        ),
        h(
            "p",
            {"class_": "total-line"},
            "Total ",
            h("strong", {"class_": "price"}, money(order.total, order.currency)),
        ),
        h("div", {"class_": "order-actions"}, order_again_button(order)),
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


def cup_and_note(order: Order) -> Markup | None:
    """The name on the cup and the note for the barista, as the customer gave them."""
    if not order.cup_name and not order.note:
        return None
    return h(
        "dl",
        {"class_": "cup-and-note"},
        fragment(
            h("dt", None, "Name on the cup"),
            h("dd", {"data_testid": "order-cup-name"}, order.cup_name),
        )
        if order.cup_name
        else None,
        fragment(
            h("dt", None, "Note for the barista"),
            h("dd", {"data_testid": "order-note"}, order.note),
        )
        if order.note
        else None,
    )


def order_again_button(order: Order) -> Markup | None:
    """ "Order again": the order's lines back in the cart at today's prices."""
    if not any(line.product_id is not None for line in order.lines):
        return None
    return button(
        "Order again",
        "order-again",
        id=f"order-again-{order.id}",
        testid="order-again",
        class_="btn",
        order=order.id,
        aria_label=f"Order {order.pickup} again",
    )


def save_usual_button(state: State, order: Order, index: int, line: OrderLine) -> Markup | None:
    """ "Save as my usual" on a line of a past order (a drink still on the menu)."""
    if line.product_id is None or state.menu is None or state.menu.product(line.product_id) is None:
        return None
    saved = any(
        f.product_id == line.product_id
        and f.variation_id == line.variation_id
        and f.option_ids == tuple(sorted(line.option_ids))
        for f in state.favourites
    )
    if saved:
        return h("span", {"class_": "saved-usual", "data_testid": "saved-usual"}, "★ My usual")
    busy = f"favourite-line-{order.id}-{index}" in state.busy
    return button(
        "Saving…" if busy else "☆ Save as my usual",
        "favourite-from-line",
        id=f"favourite-line-{order.id}-{index}",
        testid="save-usual-line",
        class_="btn btn-quiet btn-small",
        disabled=busy,
        order=order.id,
        line=index,
        aria_label=f"Save {line.product_name} as my usual",
    )
