"""What the holder of a tracking link may do besides reading: write to the request (as its customer) and see
when it went through each status."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from helpdesk.core.errors import NotFound
from helpdesk.core.principal import Principal
from helpdesk.runtime import Runtime
from helpdesk.tickets.conversation import MessageHook
from helpdesk.tickets.models import AuditEvent, Message, Ticket
from helpdesk.tickets.schemas import MessageCreate
from helpdesk.tickets.service import TicketService


class TrackingService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def ticket(self, token: str) -> Ticket:
        """The ticket behind a tracking link. Raises ``NotFound``."""
        async with self.runtime.sessions() as session:
            ticket = await session.scalar(select(Ticket).where(Ticket.tracking_token == token))
        if ticket is None or len(token) < 20:
            raise NotFound("no request with this tracking link")
        return ticket

    async def reply(
        self, token: str, body: str, *, within: MessageHook | None = None
    ) -> tuple[Ticket, Message]:
        """Add a customer message through the tracking link, with the same rules as a signed-in customer's
        (reopens a resolved ticket; a closed one gets a linked follow-up, returned). Raises ``NotFound``."""
        ticket = await self.ticket(token)
        actor = Principal(customer_id=ticket.customer_id, name="customer (tracking link)")
        return await TicketService(self.runtime).add_message(
            actor, ticket.id, MessageCreate(body=body), within=within
        )

    async def status_times(self, token: str) -> dict[str, datetime]:
        """When the request first entered each status (``new`` is its creation)."""
        ticket = await self.ticket(token)
        times: dict[str, datetime] = {"new": ticket.created_at}
        async with self.runtime.sessions() as session:
            rows = await session.execute(
                select(AuditEvent.new_value, AuditEvent.created_at)
                .where(AuditEvent.ticket_id == ticket.id, AuditEvent.field == "status")
                .order_by(AuditEvent.id)
            )
            for status, at in rows:
                if status:
                    times.setdefault(status, at)
        return times
