"""Re-exported from ``helpdesk.core.principal``, where every domain can reach it."""

from helpdesk.core.principal import ANONYMOUS, STAFF_ROLES, SYSTEM, Principal, Role

__all__ = ["ANONYMOUS", "STAFF_ROLES", "SYSTEM", "Principal", "Role"]
