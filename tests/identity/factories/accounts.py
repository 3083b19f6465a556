"""People, built through `user_create`: every user gets its `user.created` outbox event
and a checked, hashed password, as in production (Order hears of each one)."""

from __future__ import annotations

from typing import Any

import factory
from factory.django import DjangoModelFactory

from identity_site.accounts.models import Role, User
from identity_site.accounts.services import user_create

# The password every factory-built user signs in with (passes the validators).
PASSWORD = "correct-horse-battery-7"


class UserFactory(DjangoModelFactory[User]):
    """A customer by default; `UserFactory(barista=True)`, `(manager=True)`, or
    `(admin=True)` for a manager who may use the admin site. `password=None` makes
    a user who cannot sign in with a password."""

    class Meta:
        model = User

    class Params:
        barista = factory.Trait(role=Role.BARISTA)
        manager = factory.Trait(role=Role.MANAGER)
        admin = factory.Trait(role=Role.MANAGER, is_staff=True, is_superuser=True)

    email = factory.Sequence(lambda n: f"user-{n}@coffeeshop.test")
    password: Any = PASSWORD
    full_name = factory.Sequence(lambda n: f"User {n}")
    role = Role.CUSTOMER
    is_staff = False
    is_superuser = False
    email_verified = False

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        # The service, not the model: it validates the password and records the event.
        return user_create(**kwargs)
