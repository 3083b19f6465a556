"""Order's copies of Identity's users (`Customer`), as `coffeeshop.user-events` writes them."""

from __future__ import annotations

from datetime import UTC, datetime

import factory
from factory.django import DjangoModelFactory

from order_site.users.models import Customer


class CustomerFactory(DjangoModelFactory[Customer]):
    """An active customer Order can mail; `id` is Identity's user id."""

    class Meta:
        model = Customer

    id = factory.Sequence(lambda n: 500000 + n)
    email = factory.Sequence(lambda n: f"customer-{n}@example.com")
    name = ""
    roles = factory.List(["customer"])
    is_active = True
    source_event_at = datetime(2026, 1, 1, tzinfo=UTC)
