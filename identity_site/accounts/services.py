"""Writes about people. Every change records its user event in the same transaction."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from identity_site.accounts.models import Role, User
from identity_site.accounts.selectors import user_roles
from identity_site.oauth.services import user_tokens_revoke
from identity_site.outbox.services import outbox_event_record
from shared.problems import Conflict, InvalidInput

# Fields whose change is news for other services (Order keeps a copy of users).
PUBLISHED_FIELDS = ("email", "full_name", "role", "is_active")


def user_payload(*, user: User) -> dict[str, Any]:
    return {
        "user_id": str(user.pk),
        "email": user.email,
        "full_name": user.full_name,
        "role": user.role,
        "roles": user_roles(user=user),
        "is_active": user.is_active,
    }


def _record(user: User, event_type: str, payload: dict[str, Any] | None = None) -> None:
    outbox_event_record(
        topic=settings.USER_EVENTS_TOPIC,
        key=str(user.pk),
        event_type=event_type,
        payload=payload if payload is not None else user_payload(user=user),
    )


@transaction.atomic
def user_register(*, email: str, password: str, full_name: str = "") -> User:
    """A new customer. Raises InvalidInput (weak password) or Conflict (e-mail taken)."""
    return user_create(email=email, password=password, full_name=full_name, role=Role.CUSTOMER)


@transaction.atomic
def user_create(
    *,
    email: str,
    password: str | None,
    full_name: str = "",
    role: str = Role.CUSTOMER,
    is_staff: bool = False,
    is_superuser: bool = False,
) -> User:
    """Create a user and record `user.created`.

    Raises InvalidInput when the password fails the validators, Conflict when the
    e-mail address (case-insensitive) is taken.
    """
    email = User.objects.normalize_email(email).lower()
    user = User(
        email=email, full_name=full_name, role=role, is_staff=is_staff, is_superuser=is_superuser
    )
    if password is not None:
        try:
            validate_password(password, user)
        except ValidationError as err:
            raise InvalidInput(" ".join(err.messages), field="password") from None
    user.set_password(password)
    return user_save_new(user=user)


@transaction.atomic
def user_save_new(*, user: User) -> User:
    """Insert a prepared user (e.g. from the admin's add form) and record `user.created`."""
    if User.objects.filter(email__iexact=user.email).exists():
        raise Conflict("An account with this e-mail address already exists.", field="email")
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise Conflict(
            "An account with this e-mail address already exists.", field="email"
        ) from None
    _record(user, "user.created")
    return user


@transaction.atomic
def user_update(*, user: User, **changes: Any) -> User:
    """Apply `changes` (model fields) and record `user.updated` if a published field changed."""
    before = User.objects.select_for_update().get(pk=user.pk)
    for name, value in changes.items():
        setattr(user, name, value)
    return user_save_changed(user=user, before=before)


@transaction.atomic
def user_save_changed(*, user: User, before: User | None = None) -> User:
    """Save an edited user (admin form) and record `user.updated` when what others see changed.

    A user who is deactivated or changes role loses every access and refresh token in
    the same transaction: a token must not outlive the access it stood for, and a role
    change is picked up at the next sign-in (the BFF ends the person's sessions on
    this `user.updated`).
    """
    if before is None:
        before = User.objects.select_for_update().get(pk=user.pk)
    user.save()
    if (before.is_active and not user.is_active) or before.role != user.role:
        user_tokens_revoke(user_id=user.pk)
    if any(getattr(before, f) != getattr(user, f) for f in PUBLISHED_FIELDS):
        _record(user, "user.updated")
    return user


@transaction.atomic
def user_delete(*, user: User) -> None:
    """Delete a user and record `user.deleted` (payload: the id only)."""
    _record(user, "user.deleted", {"user_id": str(user.pk)})
    user.delete()
