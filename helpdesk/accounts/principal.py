"""Who is asking: a staff user with a role, a customer, or nobody. Authorization rules read this."""

from __future__ import annotations

from dataclasses import dataclass

from helpdesk.accounts.models import Role


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
