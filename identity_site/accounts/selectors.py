"""Reads about people."""

from __future__ import annotations

from identity_site.accounts.models import Role, User

# A manager can do everything a barista can (DESIGN.md: manager includes barista).
ROLE_IMPLIES: dict[str, tuple[str, ...]] = {
    Role.CUSTOMER: (Role.CUSTOMER,),
    Role.BARISTA: (Role.BARISTA,),
    Role.MANAGER: (Role.MANAGER, Role.BARISTA),
}


def user_roles(*, user: User) -> list[str]:
    """The roles `user` holds, the implied ones included: a manager is ["manager", "barista"]."""
    return [str(role) for role in ROLE_IMPLIES.get(user.role, (user.role,))]


def user_get(*, user_id: int) -> User | None:
    return User.objects.filter(pk=user_id).first()
