"""Writes about people. Every change records its user event in the same transaction."""

from __future__ import annotations

import copy
import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from oauth2_provider.models import AccessToken, Grant, RefreshToken

from identity_site.accounts.models import Role, User
from identity_site.accounts.selectors import user_from_uidb64, user_roles
from identity_site.accounts.tokens import LinkState, email_verification_tokens
from identity_site.outbox.services import outbox_event_record
from shared.problems import Conflict, InvalidInput

logger = logging.getLogger("coffeeshop.identity.accounts")

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
    email_verified: bool = False,
) -> User:
    """Create a user and record `user.created`. `email_verified` is for people whose
    address is known good without a link (the demo users).

    Raises InvalidInput when the password fails the validators, Conflict when the
    e-mail address (case-insensitive) is taken.
    """
    email = User.objects.normalize_email(email).lower()
    user = User(
        email=email,
        full_name=full_name,
        role=role,
        is_staff=is_staff,
        is_superuser=is_superuser,
        email_verified=email_verified,
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

    A changed address is unverified again (unless the change sets email_verified too).
    A user who is deactivated or changes role loses every access and refresh token in
    the same transaction: a token must not outlive the access it stood for, and a role
    change is picked up at the next sign-in (the BFF ends the person's sessions on
    this `user.updated`).
    """
    if before is None:
        before = User.objects.select_for_update().get(pk=user.pk)
    if before.email != user.email and before.email_verified == user.email_verified:
        # A new address is unverified until its own link is followed.
        user.email_verified = False
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


class VerificationLinkRefused(InvalidInput):
    slug, title = "verification-link-refused", "The verification link does not work"

    def __init__(self, state: LinkState) -> None:
        detail = (
            "This link has expired."
            if state is LinkState.EXPIRED
            else "This link is not valid: it may be mistyped or already used."
        )
        super().__init__(detail)
        self.state = state


def email_verification_send(*, user: User, site_url: str) -> bool:
    """Mail `user` a link that verifies their address, once the current transaction
    commits; answers False (sending nothing) when one went out less than
    EMAIL_VERIFICATION_RESEND_SECONDS ago or the address is verified already.

    A failing mail server is logged, not raised: the person can ask for a new link.
    """
    if user.email_verified:
        return False
    if not cache.add(f"verify-sent:{user.pk}", 1, settings.EMAIL_VERIFICATION_RESEND_SECONDS):
        return False
    path = reverse(
        "email_verify",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": email_verification_tokens.make_token(user),
        },
    )
    context = {
        "email": user.email,
        "link": site_url.rstrip("/") + path,
        "hours": settings.EMAIL_VERIFICATION_SECONDS // 3600,
    }
    subject = render_to_string("accounts/email_verification_subject.txt", context).strip()
    body = render_to_string("accounts/email_verification_email.txt", context)

    def send() -> None:
        try:
            send_mail(subject, body, None, [user.email])
        except Exception:
            logger.exception("verification e-mail to user %s not sent", user.pk)

    transaction.on_commit(send)
    return True


@transaction.atomic
def user_email_verify(*, uidb64: str, token: str) -> User:
    """Mark the address verified if `token` is a live link for it.

    Raises VerificationLinkRefused (expired, or not a link we made for this user as they
    are now: tampered, for an old address, or used already) and changes nothing then.
    """
    user = user_from_uidb64(uidb64=uidb64, lock=True)
    if user is None:
        raise VerificationLinkRefused(LinkState.INVALID)
    if user.email_verified:
        # The link as it was before it was used: followed twice, it is not an error.
        unverified = copy.copy(user)
        unverified.email_verified = False
        if email_verification_tokens.state(unverified, token) is LinkState.VALID:
            return user
    state = email_verification_tokens.state(user, token)
    if state is not LinkState.VALID:
        raise VerificationLinkRefused(state)
    user.email_verified = True
    user.save(update_fields=["email_verified"])
    return user


@transaction.atomic
def user_tokens_revoke(*, user_id: int) -> None:
    """Revoke every access and refresh token of the user, and their unused codes, in the
    caller's transaction (deactivation or a role change: `user_save_changed`).

    The tokens are django-oauth-toolkit's rows, written here through the library rather
    than through `identity_site.oauth`, which reads users and so sits above this app.
    Deleting the access tokens evicts their cached introspection answers; a refresh
    token is marked revoked (the library's way), so presenting it later fails.
    """
    Grant.objects.filter(user_id=user_id).delete()
    for refresh in RefreshToken.objects.filter(user_id=user_id, revoked__isnull=True):
        refresh.revoke()
    AccessToken.objects.filter(user_id=user_id).delete()
