"""E-mail to customers for the order events they care about (DESIGN.md "Events")."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from order_site.notifications.receipts import receipt_for, receipt_text
from order_site.orders.models import Order
from order_site.users.identity_client import identity_user_contact
from order_site.users.models import Customer
from shared.events import Envelope, InvalidEvent
from shared.pricing import format_money

logger = logging.getLogger("coffeeshop.order.notifications")


@dataclass(frozen=True)
class Mail:
    """One e-mail: a subject, a plain-text part and its HTML alternative."""

    subject: str
    text: str
    html: str


def _sentence(text: str) -> str:
    """`"Your card was declined."` and `"card declined"` alike become one sentence,
    capitalised and ending in one full stop (no "declined.." when a reason brings its own)."""
    text = " ".join(text.split()).rstrip(" .")
    if not text:
        return ""
    return text[0].upper() + text[1:] + "."


def _plain(subject: str, *paragraphs: str) -> Mail:
    """A short mail: the same paragraphs as text and as (escaped) HTML."""
    html = render_to_string(
        "notifications/message.html", {"subject": subject, "paragraphs": paragraphs}
    )
    return Mail(subject, "\n\n".join(paragraphs) + "\n", html)


def _amount(payload: dict[str, Any]) -> str:
    return format_money(int(payload.get("total", 0)), str(payload.get("currency", "GBP")))


def _paid(envelope: Envelope) -> Mail:
    """The receipt: read from the order itself (the event carries only its total)."""
    order_id = envelope.payload.get("order_id")
    try:
        order = Order.objects.prefetch_related("lines").filter(id=int(str(order_id))).first()
    except ValueError:
        order = None
    if order is None:
        raise InvalidEvent(f"order.paid for an unknown order {order_id!r}")
    paid_at = datetime.fromisoformat(envelope.occurred_at.replace("Z", "+00:00"))
    receipt = receipt_for(order=order, paid_at=paid_at.astimezone(UTC))
    return Mail(
        f"Order {receipt.number}: paid",
        receipt_text(receipt),
        render_to_string("notifications/receipt.html", {"receipt": receipt}),
    )


def _label(envelope: Envelope) -> str:
    """The order's pickup number ("A-042"), as the app and the barista show it; `#id` for
    an order that never got one (never paid) or that Order does not have."""
    order_id = envelope.payload.get("order_id")
    try:
        number = Order.objects.filter(id=int(str(order_id))).values_list("number", flat=True)
        found = number.first()
    except ValueError:
        found = None
    return found or f"#{order_id}"


def _ready(envelope: Envelope) -> Mail:
    order_id = _label(envelope)
    return _plain(
        f"Order {order_id} is ready",
        f"Your order {order_id} is ready to collect at the counter.",
        f"{settings.SHOP_NAME}, {settings.SHOP_ADDRESS}",
    )


def _refunded(envelope: Envelope) -> Mail:
    """A refund the provider confirmed: the whole order, or part of it (a manager's part
    refund: the event's `amount` of its `total`, and the reason given)."""
    order_id = _label(envelope)
    payload = envelope.payload
    if payload.get("full") is False:
        currency = str(payload.get("currency", "GBP"))
        part = format_money(int(payload.get("amount", 0)), currency)
        reason = _sentence(str(payload.get("reason") or ""))
        return _plain(
            f"Order {order_id}: {part} refunded",
            f"We refunded {part} of the {_amount(payload)} you paid for order {order_id}."
            + (f" {reason}" if reason else ""),
            "It reaches your card in a few working days, depending on your bank.",
        )
    return _plain(
        f"Order {order_id}: refunded",
        f"We refunded {_amount(payload)} for order {order_id}.",
        "It reaches your card in a few working days, depending on your bank.",
    )


def _payment_failed(envelope: Envelope) -> Mail:
    order_id = _label(envelope)
    reason = _sentence(str(envelope.payload.get("reason") or "")) or "The card was declined."
    return _plain(
        f"Order {order_id}: payment failed",
        f"We could not take the payment for order {order_id}. {reason} Nothing was charged.",
    )


def _rejected(envelope: Envelope) -> Mail:
    """A barista turned the order down: why, and that the whole amount comes back (the
    refund's own `order.refunded` mail follows once the provider confirms it)."""
    order_id = _label(envelope)
    reason = _sentence(str(envelope.payload.get("reason") or "")) or "No reason was given."
    return _plain(
        f"Order {order_id}: rejected and refunded",
        f"Sorry, we could not make order {order_id}. {reason}",
        f"We are refunding the full {_amount(envelope.payload)} to your card; it reaches "
        "you in a few working days, depending on your bank.",
        f"{settings.SHOP_NAME}, {settings.SHOP_ADDRESS}",
    )


def _status_mail(envelope: Envelope) -> Mail:
    if envelope.payload.get("to_status") == "rejected":
        return _rejected(envelope)
    return _ready(envelope)


def _wants_status(envelope: Envelope) -> bool:
    return envelope.payload.get("to_status") in ("ready", "rejected")


# Event type -> (whether this event of that type mails anyone, the mail). Explicit, so
# a type nobody mails costs no database work at all.
MAILS: dict[str, tuple[Callable[[Envelope], bool], Callable[[Envelope], Mail]]] = {
    "order.paid": (lambda e: True, _paid),
    "order.status_changed": (_wants_status, _status_mail),
    "order.refunded": (lambda e: True, _refunded),
    "order.payment_failed": (lambda e: True, _payment_failed),
}


def notification_wanted(envelope: Envelope) -> bool:
    """Whether this event mails a customer (if they can be reached): the consumer asks
    before opening a transaction, so the other events cost no database work at all.
    Raises InvalidEvent, as `notification_send` would, for an unusable total."""
    try:
        _amount(envelope.payload)
    except (TypeError, ValueError):
        raise InvalidEvent(f"{envelope.event_type} with a bad total") from None
    entry = MAILS.get(envelope.event_type)
    return entry is not None and entry[0](envelope)


def notification_message(envelope: Envelope) -> Mail | None:
    """The mail this event calls for, else None. Raises InvalidEvent for an event that
    cannot be told (a bad total, a paid order Order does not have)."""
    if not notification_wanted(envelope):
        return None
    return MAILS[envelope.event_type][1](envelope)


def _customer_from_identity(customer_id: int) -> Customer | None:
    """A user Order has not heard of yet (their `user.created` is still on its way):
    ask Identity (DESIGN.md flow 3) and keep the answer in the copy; Identity's "no such
    user" is remembered for a minute (see identity_user_contact). Raises
    DownstreamUnavailable when Identity is down, so the event is handled later."""
    contact = identity_user_contact(user_id=customer_id)
    if contact is None:
        return None
    customer, _ = Customer.objects.update_or_create(
        id=customer_id,
        defaults={
            "email": str(contact.get("email", "")),
            "name": str(contact.get("full_name", "")),
            "roles": list(contact.get("roles") or []),
            "is_active": bool(contact.get("is_active", True)),
            # As fresh as now: a user event older than this answer is ignored.
            "source_event_at": timezone.now(),
        },
    )
    return customer


def notification_send(*, envelope: Envelope) -> bool:
    """Send the e-mail this event calls for; True when one was sent.

    Runs inside the consumer's processed-event transaction: if SMTP fails this
    raises, the event stays unprocessed and is handled again (so exactly one mail
    per event, except if the commit itself fails after the mail left).
    """
    message = notification_message(envelope)
    if message is None:
        return False
    try:
        customer_id = int(envelope.payload["customer_id"])
    except (KeyError, TypeError, ValueError):
        raise InvalidEvent(f"{envelope.event_type} without a customer_id") from None
    customer = Customer.objects.filter(id=customer_id).first() or _customer_from_identity(
        customer_id
    )
    if customer is None or not customer.is_active or not customer.email:
        logger.warning("no e-mail address for user %s: %s not sent", customer_id, message.subject)
        return False
    mail = EmailMultiAlternatives(
        message.subject, message.text, settings.DEFAULT_FROM_EMAIL, [customer.email]
    )
    mail.attach_alternative(message.html, "text/html")
    mail.send(fail_silently=False)
    return True
