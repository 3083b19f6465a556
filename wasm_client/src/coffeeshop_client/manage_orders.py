"""The manager's "Orders" pages (issue 11): find any order (`/manage/orders`: by pickup
number, customer e-mail, day), see it (`/manage/orders/<id>`: lines, payment, refunds,
history with who and why) and refund all or part of it with a reason.

A refund takes two steps: the form (amount in pounds, as prices are shown, and a
reason; "Refund all" fills in what is left) is checked here and then confirmed. The
Idempotency-Key is made once per refund attempt, when it is reviewed, and sent again
with the same amount and reason if the answer was lost, so a retried click never
refunds twice (`POST /api/manage/orders/<id>/refunds`).

This module holds what the BFF answers, what the pages keep between renders
(`OrdersDesk`) and the refund form's rules. The pages are `views/manage_orders.py`;
their actions are `manager_actions.OrdersDeskActions`, mixed into `App`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from coffeeshop_client.models import Order
from coffeeshop_client.prices import pence_parse, pounds

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
