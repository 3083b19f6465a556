"""Order's copy of users, written only from Identity's `coffeeshop.user-events`."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction

from order_site.users.identity_client import identity_missing_user_forget
from order_site.users.models import Customer
from shared.events import Envelope, InvalidEvent

logger = logging.getLogger("coffeeshop.order.users")

USER_EVENTS = ("user.created", "user.updated", "user.deleted")


@transaction.atomic
def customer_apply_event(*, envelope: Envelope) -> Customer | None:
    """Apply one user event; an event older than what the row holds is ignored
    (events of one user arrive in order, but a replay may bring an old one back).
    `user.deleted` keeps the row (past orders name it) but deactivates it and
    forgets the e-mail address; a created or updated user is no longer remembered as
    missing from Identity. Returns the row, or None for other event types."""
    if envelope.event_type not in USER_EVENTS:
        return None
    payload = envelope.payload
    try:
        user_id = int(payload["user_id"])
    except (KeyError, TypeError, ValueError):
        raise InvalidEvent(f"{envelope.event_type} without a user_id") from None
    occurred_at = datetime.fromisoformat(envelope.occurred_at.replace("Z", "+00:00"))
    customer = Customer.objects.select_for_update().filter(id=user_id).first()
    if customer is not None and customer.source_event_at > occurred_at:
        logger.info("ignoring %s for user %s: older than the copy", envelope.event_type, user_id)
        return customer
    if envelope.event_type == "user.deleted":
        values = {"email": "", "name": "", "roles": [], "is_active": False}
    else:
        values = {
            "email": str(payload.get("email", "")),
            "name": str(payload.get("full_name", "")),
            "roles": list(payload.get("roles") or []),
            "is_active": bool(payload.get("is_active", True)),
        }
    customer, _ = Customer.objects.update_or_create(
        id=user_id, defaults={**values, "source_event_at": occurred_at}
    )
    if envelope.event_type != "user.deleted":
        # The notifier may have been told "no such user" before this event arrived.
        identity_missing_user_forget(user_id=user_id)
    return customer
