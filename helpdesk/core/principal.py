"""Who is asking: a staff user with a role, a customer, or nobody. Every domain's authorization reads this."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from litestar.di import NamedDependency

from helpdesk.core.errors import NotAuthenticated, PermissionDenied


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    AGENT = "agent"
    TECHNICIAN = "technician"


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int | None = None
    role: Role | None = None
    customer_id: int | None = None
    organisation_id: int | None = None
    organisation_shares: bool = False
    name: str = "anonymous"
    # Set for cookie sessions: unsafe requests must echo it (CSRF protection).
    csrf_token: str | None = None
    # The person's language setting (staff user or customer), for pages and mail.
    language: str | None = None
    # The person's time zone setting (an IANA name); unset: the help desk's default zone.
    time_zone: str | None = None

    @property
    def is_staff(self) -> bool:
        return self.user_id is not None

    @property
    def is_customer(self) -> bool:
        return self.customer_id is not None

    @property
    def is_authenticated(self) -> bool:
        return self.is_staff or self.is_customer

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    @property
    def label(self) -> str:
        """How the audit trail names this actor."""
        if self.is_staff:
            return f"{self.name} ({self.role})"
        if self.is_customer:
            return f"{self.name} (customer)"
        return "system"


ANONYMOUS = Principal()
SYSTEM = Principal(name="system")
STAFF_ROLES = (Role.ADMIN, Role.MANAGER, Role.AGENT)


def require_authenticated(principal: Principal) -> None:
    if not principal.is_authenticated:
        raise NotAuthenticated("sign in or send an API token")


def require_role(principal: Principal, *roles: Role) -> None:
    """Raise ``NotAuthenticated`` for nobody and ``PermissionDenied`` for a staff role not in ``roles``."""
    require_authenticated(principal)
    if not principal.is_staff or principal.role not in roles:
        allowed = ", ".join(sorted(roles))
        raise PermissionDenied(f"this needs one of the roles: {allowed}")


# How controllers ask for the principal (resolved by helpdesk.accounts.dependencies.provide_principal).
PrincipalDep = NamedDependency[Principal]
