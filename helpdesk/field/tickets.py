"""``dispatch.ports.TicketPort`` implemented on the help desk's tickets, customers and staff."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.ports import HistoryEntry, StaffFacts, TicketFacts
from helpdesk.accounts.models import User
from helpdesk.core.principal import Principal
from helpdesk.customers.models import Customer
from helpdesk.runtime import Runtime
from helpdesk.tickets import policy
from helpdesk.tickets.models import Message, Ticket
from helpdesk.tickets.rules import MessageKind

PUBLIC_KINDS = (MessageKind.CUSTOMER_MESSAGE, MessageKind.PUBLIC_REPLY)


class HelpdeskTickets:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def ticket_facts(self, principal: Principal, ticket_id: int) -> TicketFacts:
        policy.ensure_can_work(principal)
        async with self.runtime.sessions() as session:
            ticket = policy.ensure_view(principal, await session.get(Ticket, ticket_id), ticket_id)
            return await ticket_facts_of(session, ticket)

    async def staff_member(self, user_id: int) -> StaffFacts | None:
        async with self.runtime.sessions() as session:
            user = await session.get(User, user_id)
            if user is None:
                return None
            return StaffFacts(user_id=user.id, name=user.name, role=user.role, is_active=user.is_active)

    async def public_history(self, ticket_ids: Iterable[int], *, limit: int) -> dict[int, list[HistoryEntry]]:
        ids = sorted(set(ticket_ids))
        if not ids:
            return {}
        query = (
            select(Message, Customer.name, User.name)
            .outerjoin(Customer, Customer.id == Message.author_customer_id)
            .outerjoin(User, User.id == Message.author_user_id)
            .where(Message.ticket_id.in_(ids), Message.kind.in_([str(k) for k in PUBLIC_KINDS]))
            .order_by(Message.ticket_id, Message.created_at.desc(), Message.id.desc())
        )
        found: dict[int, list[HistoryEntry]] = {}
        async with self.runtime.sessions() as session:
            for message, customer_name, staff_name in await session.execute(query):
                entries = found.setdefault(message.ticket_id, [])
                if len(entries) < limit:
                    author = staff_name or customer_name or "customer"
                    entries.append(
                        HistoryEntry(
                            author=author, body=message.body_text[:2000], created_at=message.created_at
                        )
                    )
        return {ticket_id: entries[::-1] for ticket_id, entries in found.items()}


async def ticket_facts_of(session: AsyncSession, ticket: Ticket) -> TicketFacts:
    """What a work order copies from ``ticket`` and its customer (the caller has checked who asks)."""
    customer = await session.get(Customer, ticket.customer_id)
    return TicketFacts(
        ticket_id=ticket.id,
        reference=ticket.reference,
        subject=ticket.subject,
        priority=ticket.priority,
        customer_id=ticket.customer_id,
        organisation_id=ticket.organisation_id,
        contact_name=customer.name if customer else "",
        contact_email=customer.email if customer else "",
        contact_phone=(customer.phone or "") if customer else "",
        resolution_due_at=ticket.resolution_due_at,
    )
