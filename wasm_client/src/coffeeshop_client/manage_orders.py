"""The manager's "Orders" pages (issue 11): find any order (`#/manage/orders`: by pickup
number, customer e-mail, day), see it (`#/manage/orders/<id>`: lines, payment, refunds,
history with who and why) and refund all or part of it with a reason.

A refund takes two steps: the form (amount in pounds, as prices are shown, and a
reason; "Refund all" fills in what is left) is checked here and then confirmed. The
Idempotency-Key is made once per refund attempt, when it is reviewed, and sent again
with the same amount and reason if the answer was lost, so a retried click never
refunds twice (`POST /api/manage/orders/<id>/refunds`).

Views are pure functions (tested on CPython); `OrdersDeskActions` is the controller's
part, mixed into `App`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from coffeeshop_client import prices, router, statuses
from coffeeshop_client.html import Markup, fragment, h
from coffeeshop_client.menu_manager import pence_parse, pounds
from coffeeshop_client.models import Order

if TYPE_CHECKING:
    from coffeeshop_client.api import ApiClient
    from coffeeshop_client.app import Platform
    from coffeeshop_client.state import State

REASON_MAX = 200
SEARCH_FIELDS = ("number", "email", "date")


# ---- what the BFF answers ----------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    email: str

    @property
    def label(self) -> str:
        return self.name or self.email or f"user {self.id}"

    @classmethod
    def from_json(cls, data: Any) -> Person | None:
        if not isinstance(data, dict):
            return None
        return cls(
            str(data.get("id", "")), str(data.get("name") or ""), str(data.get("email") or "")
        )


@dataclass(frozen=True)
class Payment:
    amount: int
    currency: str
    status: str
    card_brand: str
    card_last4: str
    refunded_amount: int
    refundable: int

    @property
    def card(self) -> str:
        brand = self.card_brand.capitalize() or "Card"
        return f"{brand} ending {self.card_last4}" if self.card_last4 else brand


@dataclass(frozen=True)
class RefundRow:
    id: int
    amount: int
    status: str
    reason: str
    requested_by: Person | None
    created_at: str


@dataclass(frozen=True)
class Change:
    status: str
    at: str
    actor: Person | None
    note: str


@dataclass(frozen=True)
class ManagedOrder:
    order: Order
    customer: Person | None
    payment: Payment | None
    refunds: tuple[RefundRow, ...]
    history: tuple[Change, ...]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ManagedOrder:
        payment = data.get("payment")
        return cls(
            order=Order.from_json(data["order"]),
            customer=Person.from_json(data.get("customer")),
            payment=Payment(
                amount=int(payment["amount"]),
                currency=str(payment["currency"]),
                status=str(payment["status"]),
                card_brand=str(payment.get("card_brand") or ""),
                card_last4=str(payment.get("card_last4") or ""),
                refunded_amount=int(payment.get("refunded_amount") or 0),
                refundable=int(payment.get("refundable") or 0),
            )
            if isinstance(payment, dict)
            else None,
            refunds=tuple(
                RefundRow(
                    id=int(r["id"]),
                    amount=int(r["amount"]),
                    status=str(r["status"]),
                    reason=str(r.get("reason") or ""),
                    requested_by=Person.from_json(r.get("requested_by")),
                    created_at=str(r.get("created_at") or ""),
                )
                for r in data.get("refunds") or ()
            ),
            history=tuple(
                Change(
                    status=str(c["status"]),
                    at=str(c.get("at") or ""),
                    actor=Person.from_json(c.get("actor")),
                    note=str(c.get("note") or ""),
                )
                for c in data.get("history") or ()
            ),
        )


# ---- state ---------------------------------------------------------------------------------


@dataclass
class OrdersDesk:
    """What the manager's Orders pages hold between renders."""

    query: dict[str, str] = field(default_factory=dict)
    results: list[ManagedOrder] | None = None  # None: not searched yet
    next_cursor: str | None = None
    searching: bool = False
    detail: ManagedOrder | None = None
    # The refund being written: the form's text, then (once checked) what is confirmed.
    amount_text: str = ""
    reason_text: str = ""
    errors: dict[str, str] = field(default_factory=dict)  # field → message
    confirming: tuple[int, str] | None = None  # (pence, reason) awaiting "Confirm"
    # One Idempotency-Key per refund attempt, kept while the same refund is retried.
    key: str | None = None
    key_for: tuple[str, int, str] | None = None
    sending: bool = False
    done: str | None = None  # the confirmation shown after a refund was requested


def refund_check(
    amount_text: str, reason_text: str, *, refundable: int
) -> tuple[int | None, str, dict[str, str]]:
    """(pence, reason, errors by field) of the refund form, in the words shown beside
    each field; the BFF and Order check again."""
    errors: dict[str, str] = {}
    amount = pence_parse(amount_text)
    if amount is None or amount < 1:
        errors["amount"] = "Enter an amount in pounds and pence, like 1.50."
    elif amount > refundable:
        errors["amount"] = f"At most {pounds(refundable)}: what is left to refund."
    reason = " ".join(reason_text.split())
    if not reason:
        errors["reason"] = "Say why: the customer is told."
    elif len(reason) > REASON_MAX:
        errors["reason"] = f"At most {REASON_MAX} characters."
    return amount, reason, errors


# ---- the controller's part ----------------------------------------------------------------


class OrdersDeskActions:
    """The Orders pages' actions, mixed into `App` (which provides these attributes)."""

    if TYPE_CHECKING:
        state: State
        api: ApiClient
        platform: Platform

        def render(self, *, focus_heading: bool = False) -> None: ...

        def fail(self, error: BaseException, retry: str | None = None) -> None: ...

    async def do_orders_search(self, data: dict[str, str]) -> None:
        from coffeeshop_client.api import ApiError, NetworkError

        desk = self.state.orders_desk
        desk.query = {k: data[k].strip() for k in SEARCH_FIELDS if data.get(k, "").strip()}
        desk.searching = True
        self.render()
        try:
            results, desk.next_cursor = await self.api.manage_orders(desk.query)
        except (ApiError, NetworkError) as err:
            self.fail(err)
        else:
            desk.results = results
            found = len(results)
            self.platform.announce(
                f"{found} order{'s' if found != 1 else ''} found"
                + (" (more below)" if desk.next_cursor else "")
                + "."
            )
        finally:
            desk.searching = False
        self.render()

    async def do_orders_more(self, data: dict[str, str]) -> None:
        from coffeeshop_client.api import ApiError, NetworkError

        desk = self.state.orders_desk
        if not desk.next_cursor or desk.results is None:
            return
        try:
            more, desk.next_cursor = await self.api.manage_orders(
                {**desk.query, "cursor": desk.next_cursor}
            )
        except (ApiError, NetworkError) as err:
            self.fail(err)
        else:
            desk.results = [*desk.results, *more]
        self.render()

    async def load_managed_order(self, order_id: str) -> None:
        from coffeeshop_client.api import ApiError, NetworkError

        desk = self.state.orders_desk
        if desk.detail is None or desk.detail.order.id != order_id:
            desk.detail = None
            desk.amount_text = desk.reason_text = ""
            desk.errors, desk.confirming, desk.done = {}, None, None
        try:
            desk.detail = await self.api.manage_order(order_id)
        except (ApiError, NetworkError) as err:
            self.fail(err)
        self.render()

    async def do_refund_full(self, data: dict[str, str]) -> None:
        desk = self.state.orders_desk
        if desk.detail is not None and desk.detail.payment is not None:
            desk.amount_text = pounds(desk.detail.payment.refundable)
            desk.reason_text = data.get("reason", desk.reason_text)
            desk.errors.pop("amount", None)
            self.render()

    async def do_refund_review(self, data: dict[str, str]) -> None:
        """The refund form, checked: its errors beside the fields, or the confirmation."""
        desk = self.state.orders_desk
        if desk.detail is None or desk.detail.payment is None:
            return
        desk.amount_text, desk.reason_text = data.get("amount", ""), data.get("reason", "")
        amount, reason, desk.errors = refund_check(
            desk.amount_text, desk.reason_text, refundable=desk.detail.payment.refundable
        )
        desk.done = None
        if desk.errors or amount is None:
            self.platform.announce(" ".join(desk.errors.values()))
            self.render()
            return
        desk.confirming = (amount, reason)
        attempt = (desk.detail.order.id, amount, reason)
        if desk.key_for != attempt:  # a new refund: a new key; the same one retried: the same
            desk.key, desk.key_for = self.platform.new_key(), attempt
        self.render()

    async def do_refund_back(self, data: dict[str, str]) -> None:
        self.state.orders_desk.confirming = None
        self.render()

    async def do_refund_confirm(self, data: dict[str, str]) -> None:
        from coffeeshop_client.api import ApiError, NetworkError

        desk = self.state.orders_desk
        if desk.detail is None or desk.confirming is None or desk.sending or desk.key is None:
            return
        amount, reason = desk.confirming
        order_id, currency = desk.detail.order.id, desk.detail.order.currency
        desk.sending = True
        self.render()
        try:
            desk.detail = await self.api.refund(order_id, amount, reason, desk.key)
        except NetworkError as err:
            self.fail(err)  # the key is kept: confirming again retries the same refund
        except ApiError as err:
            desk.confirming = None
            named = {
                k: " ".join(map(str, v)) for k, v in err.errors.items() if k in ("amount", "reason")
            }
            if named:
                desk.errors = named
                self.platform.announce(" ".join(named.values()))
            else:
                self.fail(err)
            if err.status in (400, 409, 422):
                desk.key = desk.key_for = None
        else:
            desk.confirming, desk.key, desk.key_for = None, None, None
            desk.amount_text = desk.reason_text = ""
            desk.errors = {}
            desk.done = (
                f"Refund of {prices.format_money(amount, currency)} requested for order "
                f"{desk.detail.order.pickup}. The customer is told by e-mail once the card "
                "is refunded."
            )
            self.platform.announce(desk.done)
        finally:
            desk.sending = False
        self.render()


# ---- views -----------------------------------------------------------------------------------


def _when(stamp: str) -> str:
    """ "2026-12-04T18:05:09.123Z" → "2026-12-04 18:05 UTC"."""
    return stamp[:16].replace("T", " ") + " UTC" if len(stamp) >= 16 else stamp


def _money(amount: int, currency: str) -> str:
    return prices.format_money(amount, currency)


def _not_manager(state: State, title: Markup) -> Markup | None:
    if state.session.is_manager:
        return None
    if state.session_loaded:
        return fragment(title, h("p", None, "Looking up and refunding orders is for managers."))
    return fragment(title, h("p", {"class_": "loading", "role": "status"}, "Loading…"))


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
        _money(order.total, order.currency),
        f" (refunded {_money(refunded, order.currency)})" if refunded else "",
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
    refused = _not_manager(state, title)
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
                _money(line.line_total, order.currency),
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
        h("dd", None, _money(payment.amount, payment.currency), f" ({payment.status})"),
        h("dt", None, "Refunded"),
        h(
            "dd",
            {"data_testid": "manage-refunded"},
            _money(payment.refunded_amount, payment.currency),
        ),
        h("dt", None, "Left to refund"),
        h("dd", {"data_testid": "manage-refundable"}, _money(payment.refundable, payment.currency)),
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
                _money(r.amount, currency),
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
                f"Refund {_money(amount, currency)} of {_money(payment.amount, currency)} "
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
            f"Refund all that is left ({_money(payment.refundable, currency)})",
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
    refused = _not_manager(state, title)
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
            _money(order.total, order.currency),
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
