"""Moving a ticket between statuses: the transition rule, the audit row and the timestamps a status stamps."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.core.errors import InvalidTransition
from helpdesk.core.principal import Principal
from helpdesk.tickets import audit
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.rules import WORKING_STATUS_TIMESTAMPS, TicketStatus, can_transition


def change_status(
    session: AsyncSession, principal: Principal, ticket: Ticket, target: TicketStatus, now: datetime
) -> None:
    """Move ``ticket`` to ``target`` (audited). Raises ``InvalidTransition`` for a move the rules forbid."""
    current = TicketStatus(ticket.status)
    if target == current:
        return
    if not can_transition(current, target):
        raise InvalidTransition(
            f"a {current} ticket cannot become {target}"
            + (
                "; a customer reply opens a new ticket linked to it" if current == TicketStatus.CLOSED else ""
            ),
            field="status",
        )
    audit.record(session, now, principal, ticket_id=ticket.id, field="status", old=current, new=target)
    ticket.status = target
    ticket.updated_at = now
    stamp = WORKING_STATUS_TIMESTAMPS.get(target)
    if stamp:
        setattr(ticket, stamp, now)
    if target == TicketStatus.OPEN:
        ticket.resolved_at = None
