"""Who calls a BFF API view: the server-side session's user, as DRF authentication.

The caller is the user the session holds (`services.session_user`, which refreshes
tokens about to expire), never anything the browser says; the permissions answer
401/403 problem details (RFC 9457, shared/problems.py) before the view runs. (Kept apart
from `apiview.py`: DRF reads its settings, which name this module, when APIView loads.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request

from bff_site.sessions.services import session_user
from shared.problems import DomainError

if TYPE_CHECKING:
    from rest_framework.views import APIView

STAFF_ROLES = frozenset({"barista", "manager"})


class SignInRequired(DomainError):
    status, slug, title = 401, "unauthenticated", "Sign-in required"


class Forbidden(DomainError):
    status, slug, title = 403, "forbidden", "Forbidden"


class SessionUserAuthentication(BaseAuthentication):
    """The session's user (a dict of id, email, name, roles) or None for a visitor."""

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        user = session_user(session=request._request.session)
        return None if user is None else (user, None)


def caller(request: Request) -> dict[str, Any] | None:
    """The signed-in user of this request (None: a visitor)."""
    return cast("dict[str, Any] | None", request.user)


def signed_in_caller(request: Request) -> dict[str, Any]:
    """The signed-in user; only in views whose permissions include `SignedIn`."""
    user = caller(request)
    assert user is not None
    return user


class Public(AllowAny):
    """Anyone, signed in or not (the schema says the session is optional)."""


class SignedIn(BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        if caller(request) is None:
            raise SignInRequired("Sign in to continue.")
        return True


class Staff(BasePermission):
    """A barista or a manager (after SignedIn)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not STAFF_ROLES & set(signed_in_caller(request).get("roles", [])):
            raise Forbidden("Only staff can do this.")
        return True


class Manager(BasePermission):
    """A manager (after Staff); the view's `manager_action` says what only a manager can."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if "manager" not in signed_in_caller(request).get("roles", []):
            raise Forbidden(f"Only a manager can {getattr(view, 'manager_action', 'do this')}.")
        return True
