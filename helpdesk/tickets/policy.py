"""Who may see and do what with a ticket: the one place these rules live."""

from __future__ import annotations

from helpdesk.accounts.models import Role
from helpdesk.accounts.principal import Principal
from helpdesk.core.errors import NotAuthenticated, NotFound, PermissionDenied
from helpdesk.tickets.models import Ticket

WORKING_ROLES = (Role.ADMIN, Role.MANAGER, Role.AGENT)


def can_view(principal: Principal, ticket: Ticket) -> bool:
    if principal.is_staff:
        # Technicians see tickets through their work orders; the ticket API is for the desk.
        return principal.role in WORKING_ROLES
    if principal.is_customer:
        if ticket.customer_id == principal.customer_id:
            return True
        return (
            principal.organisation_shares
            and principal.organisation_id is not None
            and ticket.organisation_id == principal.organisation_id
        )
    return False


def ensure_view(principal: Principal, ticket: Ticket | None, ticket_id: int) -> Ticket:
    """Return the ticket if visible; another customer's ticket is reported as missing, not forbidden."""
    if not principal.is_authenticated:
        raise NotAuthenticated("sign in or send an API token")
    if ticket is None or not can_view(principal, ticket):
        if principal.is_staff and ticket is not None:
            raise PermissionDenied("your role does not work tickets")
        raise NotFound(f"ticket {ticket_id} not found")
    return ticket


def ensure_can_work(principal: Principal) -> None:
    """Staff who triage and answer tickets."""
    if not principal.is_authenticated:
        raise NotAuthenticated("sign in or send an API token")
    if principal.role not in WORKING_ROLES:
        raise PermissionDenied("only agents, managers and admins can change tickets")


def ensure_can_list(principal: Principal) -> None:
    if not principal.is_authenticated:
        raise NotAuthenticated("sign in or send an API token")
    if principal.is_staff and principal.role not in WORKING_ROLES:
        raise PermissionDenied("your role does not work tickets")
