"""Reads about people."""

from __future__ import annotations

from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode

from identity_site.accounts.models import Role, User

# A manager can do everything a barista can (DESIGN.md: manager includes barista).
ROLE_IMPLIES: dict[str, tuple[str, ...]] = {
    Role.CUSTOMER: (Role.CUSTOMER,),
    Role.BARISTA: (Role.BARISTA,),
    Role.MANAGER: (Role.MANAGER, Role.BARISTA),
}


def user_roles(*, user: User) -> list[str]:
    """The roles `user` holds, the implied ones included: a manager is ["manager", "barista"]."""
    return role_names(role=user.role)


def role_names(*, role: str) -> list[str]:
    """The roles a user of `role` holds, the implied ones included."""
    return [str(name) for name in ROLE_IMPLIES.get(role, (role,))]


def user_get(*, user_id: int) -> User | None:
    return User.objects.filter(pk=user_id).first()


def user_is_active_locked(*, user_id: int) -> bool:
    """Whether the user exists and is active, holding a lock on their row until the
    transaction ends (a concurrent deactivation waits for it, or it for the deactivation)."""
    locked = User.objects.select_for_update(no_key=True).filter(pk=user_id, is_active=True)
    return bool(list(locked.values_list("pk", flat=True)))


def user_from_uidb64(*, uidb64: str, lock: bool = False) -> User | None:
    """The user a mailed link names (base64 of the id, as Django's password reset), or None."""
    try:
        user_id = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError):
        return None
    users = User.objects.select_for_update() if lock else User.objects
    return users.filter(pk=user_id).first()
