"""Who may do what in the Order API (DESIGN.md roles: customer, barista, manager)."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from order_site.users.principals import Principal


class IsAuthenticatedUser(BasePermission):
    message = "Sign in to do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.user, Principal)


class IsStaffMember(IsAuthenticatedUser):
    message = "Only baristas and managers may do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return isinstance(user, Principal) and user.is_staff_member


class IsManager(IsAuthenticatedUser):
    message = "Only managers may do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return isinstance(user, Principal) and user.is_manager
