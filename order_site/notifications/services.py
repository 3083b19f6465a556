"""E-mail to customers for the order events they care about (DESIGN.md "Events")."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from order_site.users.identity_client import identity_user_contact
from order_site.users.models import Customer
from shared.events import Envelope, InvalidEvent
from shared.pricing import format_money

logger = logging.getLogger("coffeeshop.order.notifications")


def notification_message(envelope: Envelope) -> tuple[str, str] | None:
    """(subject, body) for an order event a customer hears about, else None."""
    payload = envelope.payload
    order_id = payload.get("order_id")
    try:
        amount = format_money(int(payload.get("total", 0)), str(payload.get("currency", "GBP")))
    except (TypeError, ValueError):
        raise InvalidEvent(f"{envelope.event_type} with a bad total") from None
    match envelope.event_type:
        case "order.paid":
            return (
                f"Order {order_id}: paid",
                f"Thank you: we received {amount} for order {order_id}. "
                "We will tell you when it is ready.",
            )
        case "order.status_changed" if payload.get("to_status") == "ready":
            return (
                f"Order {order_id} is ready",
                f"Your order {order_id} is ready to collect at the counter.",
            )
        case "order.refunded":
            return (
                f"Order {order_id}: refunded",
                f"We refunded {amount} for order {order_id}.",
            )
        case "order.payment_failed":
            return (
                f"Order {order_id}: payment failed",
                f"We could not take the payment for order {order_id}: "
                f"{payload.get('reason') or 'declined'}. Nothing was charged.",
            )
    return None


def notification_wanted(envelope: Envelope) -> bool:
    """Whether this event mails a customer (if they can be reached): the consumer asks
    before opening a transaction, so the other events cost no database work at all.
    Raises InvalidEvent, as `notification_send` would, for an unusable total."""
    return notification_message(envelope) is not None


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
        logger.warning("no e-mail address for user %s: %s not sent", customer_id, message[0])
        return False
    subject, body = message
    send_mail(
        subject,
        body,
        settings.DEFAULT_FROM_EMAIL,
        [customer.email],
        fail_silently=False,
    )
    return True
