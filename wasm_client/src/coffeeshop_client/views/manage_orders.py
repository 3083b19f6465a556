"""The manager's "Orders" pages: the search (`/manage/orders`) and one order
(`/manage/orders/<id>`) with its payment, refunds, history and the two-step refund
form (what they hold and the form's rules: `coffeeshop_client/manage_orders.py`)."""

from __future__ import annotations

from coffeeshop_client import router, statuses
from coffeeshop_client.html import Markup, fragment, h
from coffeeshop_client.manage_orders import REASON_MAX, ManagedOrder, OrdersDesk
from coffeeshop_client.models import Order
from coffeeshop_client.state import State
from coffeeshop_client.views.components import managers_only, money


def _when(stamp: str) -> str:
    """ "2026-12-04T18:05:09.123Z" → "2026-12-04 18:05 UTC"."""
    return stamp[:16].replace("T", " ") + " UTC" if len(stamp) >= 16 else stamp


def _search_form(desk: OrdersDesk) -> Markup:
    def field_(name: str, label: str, kind: str, hint: str) -> list[Markup]:
        return [
            h("label", {"for_": f"find-{name}"}, label),
            h(
                "input",
                {
                    "type": kind,
                    "id": f"find-{name}",
                    "name": name,
                    "value": desk.query.get(name, ""),
                    "placeholder": hint,
                    "data_testid": f"find-{name}",
                },
            ),
        ]

    return h(
        "form",
        {"data_action": "orders-search", "class_": "manage-search", "role": "search"},
        h(
            "div",
            {"class_": "manage-fields"},
            field_("number", "Pickup number", "text", "A-042"),
            field_("email", "Customer e-mail", "email", "name@example.com"),
            field_("date", "Day", "date", ""),
        ),
        h(
            "button",
            {
                "type": "submit",
                "id": "find-orders",
                "class_": "btn",
                "disabled": desk.searching,
                "data_testid": "find-orders",
            },
            "Find orders",
        ),
    )


def _result_row(found: ManagedOrder) -> Markup:
    order = found.order
    who = found.customer.email if found.customer and found.customer.email else "unknown customer"
    refunded = found.payment.refunded_amount if found.payment else 0
    return h(
        "li",
        {"class_": "manage-item", "data_testid": f"found-{order.id}"},
        h(
            "a",
            {
                "href": router.href("manage_order", id=order.id),
                "data_testid": f"found-link-{order.id}",
            },
            f"Order {order.pickup}",
        ),
        " · ",
        statuses.label(order.status),
        " · ",
        money(order.total, order.currency),
        f" (refunded {money(refunded, order.currency)})" if refunded else "",
        " · ",
        who,
        " · ",
        _when(order.created_at),
    )


def search_page(state: State) -> Markup:
    title = h(
        "h1",
        {"id": "page-heading", "tabindex": "-1", "data_testid": "manage-orders-heading"},
        "Orders",
    )
    refused = managers_only(state, title, "Looking up and refunding orders")
    if refused is not None:
        return refused
    desk = state.orders_desk
    if desk.results is None:
        listing: object = h(
            "p", None, "Find an order by its pickup number, the customer's e-mail or the day."
        )
    elif not desk.results:
        listing = h("p", {"data_testid": "found-none"}, "No order matches.")
    else:
        listing = h(
            "ul",
            {"class_": "manage-list", "data_testid": "found"},
            [_result_row(r) for r in desk.results],
        )
    more = (
        h(
            "button",
            {
                "type": "button",
                "id": "orders-more",
                "class_": "btn btn-quiet",
                "data_action": "orders-more",
            },
            "More orders",
        )
        if desk.next_cursor
        else ""
    )
    return fragment(title, _search_form(desk), listing, more)


def _lines(order: Order) -> Markup:
    return h(
        "ul",
        {"class_": "order-lines", "data_testid": "manage-lines"},
        [
            h(
                "li",
                None,
                f"{line.quantity} \u00d7 {line.product_name}",
                f" ({line.variation_name})" if line.variation_name else "",
                f", {', '.join(line.options)}" if line.options else "",
                " — ",
                money(line.line_total, order.currency),
            )
            for line in order.lines
        ],
    )


def _payment(found: ManagedOrder) -> Markup:
    payment = found.payment
    if payment is None:
        return h("p", {"data_testid": "manage-payment"}, "No payment was taken.")
    return h(
        "dl",
        {"class_": "manage-payment", "data_testid": "manage-payment"},
        h("dt", None, "Card"),
        h("dd", None, payment.card),
        h("dt", None, "Charged"),
        h("dd", None, money(payment.amount, payment.currency), f" ({payment.status})"),
        h("dt", None, "Refunded"),
        h(
            "dd",
            {"data_testid": "manage-refunded"},
            money(payment.refunded_amount, payment.currency),
        ),
        h("dt", None, "Left to refund"),
        h("dd", {"data_testid": "manage-refundable"}, money(payment.refundable, payment.currency)),
    )


def _refunds(found: ManagedOrder) -> Markup:
    if not found.refunds:
        return h("p", {"data_testid": "manage-refunds"}, "No refunds.")
    currency = found.order.currency
    return h(
        "ul",
        {"class_": "manage-list", "data_testid": "manage-refunds"},
        [
            h(
                "li",
                {"data_testid": f"refund-{r.id}"},
                money(r.amount, currency),
                f" ({r.status})",
                f" — {r.reason}" if r.reason else "",
                f" — by {r.requested_by.label}" if r.requested_by else "",
                f", {_when(r.created_at)}",
            )
            for r in found.refunds
        ],
    )


def _history(found: ManagedOrder) -> Markup:
    return h(
        "ol",
        {"class_": "manage-history", "data_testid": "manage-history"},
        [
            h(
                "li",
                None,
                _when(c.at),
                " · ",
                c.status.replace("_", " "),
                " · ",
                c.actor.label if c.actor else "the system",
                f" · {c.note}" if c.note else "",
            )
            for c in found.history
        ],
    )


def _refund_form(desk: OrdersDesk, found: ManagedOrder) -> Markup:
    payment = found.payment
    if payment is None or payment.status != "succeeded":
        return Markup("")
    currency = found.order.currency
    if payment.refundable < 1:
        return h(
            "p", {"data_testid": "refund-none-left"}, "Refunded in full: nothing is left to refund."
        )
    if desk.confirming is not None:
        amount, reason = desk.confirming
        return h(
            "section",
            {"class_": "manage-confirm", "data_testid": "refund-confirm-box"},
            h(
                "p",
                {"role": "alert"},
                f"Refund {money(amount, currency)} of {money(payment.amount, currency)} "
                f"to {payment.card} for order {found.order.pickup}? Reason: {reason}",
            ),
            h(
                "button",
                {
                    "type": "button",
                    "id": "refund-confirm",
                    "class_": "btn",
                    "data_action": "refund-confirm",
                    "disabled": desk.sending,
                    "data_testid": "refund-confirm",
                },
                "Confirm refund",
            ),
            " ",
            h(
                "button",
                {
                    "type": "button",
                    "id": "refund-back",
                    "class_": "btn btn-quiet",
                    "data_action": "refund-back",
                    "disabled": desk.sending,
                },
                "Back",
            ),
        )

    def error(name: str) -> Markup:
        text = desk.errors.get(name)
        return (
            h(
                "p",
                {
                    "class_": "field-error",
                    "role": "alert",
                    "id": f"refund-{name}-error",
                    "data_testid": f"refund-{name}-error",
                },
                text,
            )
            if text
            else Markup("")
        )

    return h(
        "form",
        {"data_action": "refund-review", "class_": "manage-refund", "data_testid": "refund-form"},
        h("h2", None, "Refund"),
        h("label", {"for_": "refund-amount"}, f"Amount ({currency}, e.g. 1.50)"),
        h(
            "input",
            {
                "type": "text",
                "inputmode": "decimal",
                "id": "refund-amount",
                "name": "amount",
                "value": desk.amount_text,
                "size": 8,
                "aria_invalid": "true" if "amount" in desk.errors else None,
                "aria_describedby": "refund-amount-error" if "amount" in desk.errors else None,
                "data_testid": "refund-amount",
            },
        ),
        " ",
        h(
            "button",
            {
                "type": "button",
                "id": "refund-full",
                "class_": "btn btn-quiet",
                "data_action": "refund-full",
                "data_testid": "refund-full",
            },
            f"Refund all that is left ({money(payment.refundable, currency)})",
        ),
        error("amount"),
        h("label", {"for_": "refund-reason"}, "Reason (the customer is told)"),
        h(
            "textarea",
            {
                "id": "refund-reason",
                "name": "reason",
                "rows": 2,
                "maxlength": REASON_MAX,
                "aria_invalid": "true" if "reason" in desk.errors else None,
                "aria_describedby": "refund-reason-error" if "reason" in desk.errors else None,
                "data_testid": "refund-reason",
            },
            desk.reason_text,
        ),
        error("reason"),
        h(
            "button",
            {
                "type": "submit",
                "id": "refund-review",
                "class_": "btn",
                "data_testid": "refund-review",
            },
            "Review refund",
        ),
    )


def order_page(state: State) -> Markup:
    desk = state.orders_desk
    found = desk.detail
    wanted = state.route.params.get("id", "")
    title_text = f"Order {found.order.pickup}" if found and found.order.id == wanted else "Order"
    title = h(
        "h1",
        {"id": "page-heading", "tabindex": "-1", "data_testid": "manage-order-heading"},
        title_text,
    )
    refused = managers_only(state, title, "Looking up and refunding orders")
    if refused is not None:
        return refused
    back = h(
        "p",
        None,
        h(
            "a",
            {"href": router.href("manage_orders"), "data_testid": "back-to-orders"},
            "← All orders",
        ),
    )
    if found is None or found.order.id != wanted:
        return fragment(title, back, h("p", {"class_": "loading", "role": "status"}, "Loading…"))
    order = found.order
    customer = found.customer
    return fragment(
        title,
        back,
        h(
            "p",
            {"class_": "banner banner-good", "role": "status", "data_testid": "refund-done"},
            desk.done,
        )
        if desk.done
        else "",
        h(
            "p",
            {"data_testid": "manage-order-summary"},
            order.status.replace("_", " ").capitalize(),
            " · ",
            money(order.total, order.currency),
            " · ",
            (customer.email or customer.label) if customer else "unknown customer",
            " · placed ",
            _when(order.created_at),
        ),
        h("h2", None, "Items"),
        _lines(order),
        h("h2", None, "Payment"),
        _payment(found),
        h("h2", None, "Refunds"),
        _refunds(found),
        _refund_form(desk, found),
        h("h2", None, "History"),
        _history(found),
    )
