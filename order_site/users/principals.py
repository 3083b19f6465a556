"""Who is calling the Order API: the acting user, their roles and the calling client."""

from __future__ import annotations

from dataclasses import dataclass, field

CUSTOMER, BARISTA, MANAGER = "customer", "barista", "manager"
KNOWN_ROLES = frozenset({CUSTOMER, BARISTA, MANAGER})
STAFF_ROLES = frozenset({BARISTA, MANAGER})


@dataclass(frozen=True)
class Principal:
    """The acting user of a request (DRF's `request.user`)."""

    user_id: int
    roles: frozenset[str] = field(default_factory=frozenset)
    client_id: str = ""
    scopes: frozenset[str] = field(default_factory=frozenset)
    on_behalf: bool = False

    is_authenticated = True
    is_anonymous = False

    @property
    def pk(self) -> int:
        return self.user_id

    @property
    def is_staff_member(self) -> bool:
        """Barista or manager (DESIGN.md: manager includes barista)."""
        return bool(self.roles & STAFF_ROLES)

    @property
    def is_manager(self) -> bool:
        return MANAGER in self.roles
