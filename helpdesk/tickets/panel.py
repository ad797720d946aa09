"""What the agent's side panel shows next to a ticket: the customer, their organisation, their other tickets
and the SLA clock of each target. Read-only, a fixed number of queries."""

from __future__ import annotations

from datetime import datetime

import msgspec
from sqlalchemy import select

from helpdesk.core.errors import NotFound
from helpdesk.core.principal import Principal
from helpdesk.customers.models import Customer, Organisation
from helpdesk.runtime import Runtime
from helpdesk.tickets import policy
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.urgency import TargetClock, sla_clocks

OTHER_TICKETS = 8


class OtherTicket(msgspec.Struct, kw_only=True):
    id: int
    reference: str
    subject: str
    status: str
    created_at: datetime


class SidePanel(msgspec.Struct, kw_only=True):
    customer_id: int
    customer_name: str
    customer_email: str
    customer_phone: str | None
    organisation_id: int | None
    organisation_name: str | None
    other_tickets: list[OtherTicket]
    clocks: list[TargetClock]


async def side_panel(runtime: Runtime, principal: Principal, ticket_id: int) -> SidePanel:
    """Raises ``NotFound`` and ``PermissionDenied`` as reading the ticket does."""
    async with runtime.sessions() as session:
        ticket = policy.ensure_view(principal, await session.get(Ticket, ticket_id), ticket_id)
        row = (
            await session.execute(
                select(Customer, Organisation.name)
                .outerjoin(Organisation, Organisation.id == Customer.organisation_id)
                .where(Customer.id == ticket.customer_id)
            )
        ).first()
        if row is None:
            raise NotFound(f"customer of {ticket.reference} not found")
        customer, organisation_name = row
        others = (
            await session.scalars(
                select(Ticket)
                .where(Ticket.customer_id == ticket.customer_id, Ticket.id != ticket.id)
                .order_by(Ticket.id.desc())
                .limit(OTHER_TICKETS)
            )
        ).all()
        clocks = await sla_clocks(session, [ticket], runtime.clock.now())
    return SidePanel(
        customer_id=customer.id,
        customer_name=customer.name or customer.email,
        customer_email=customer.email,
        customer_phone=customer.phone,
        organisation_id=customer.organisation_id,
        organisation_name=organisation_name,
        other_tickets=[
            OtherTicket(
                id=t.id, reference=t.reference, subject=t.subject, status=t.status, created_at=t.created_at
            )
            for t in others
        ],
        clocks=clocks.get(ticket.id, []),
    )
