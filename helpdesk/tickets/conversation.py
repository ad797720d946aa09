"""The conversation of a ticket: customer messages (reopen, or a follow-up ticket after close), public replies
(mailed to the customer), internal notes, and notes written by the system or other domains."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.accounts.principal import Principal
from helpdesk.accounts.security import new_token
from helpdesk.core import live
from helpdesk.core.db import transaction
from helpdesk.core.errors import NotFound
from helpdesk.customers.models import Customer
from helpdesk.notifications.service import flush_mail_jobs
from helpdesk.runtime import Runtime
from helpdesk.tickets import audit, policy
from helpdesk.tickets.customer_mail import mail_customer
from helpdesk.tickets.models import Message, Ticket
from helpdesk.tickets.rules import (
    Channel,
    MessageKind,
    TicketStatus,
    can_transition,
    status_after_agent_reply,
    status_after_customer_message,
)
from helpdesk.tickets.schemas import MessageCreate
from helpdesk.tickets.sla_sync import policy_for_new_ticket, refresh_sla, start_sla
from helpdesk.tickets.status import change_status

# Writes a channel adds to the transaction that stores a message (the e-mail channel records the raw mail,
# its attachments and Message-ID there, so a crash never leaves a message without its mail or vice versa).
MessageHook = Callable[[AsyncSession, Ticket, Message], Awaitable[None]]


class ConversationService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def add_message(
        self,
        principal: Principal,
        ticket_id: int,
        data: MessageCreate,
        *,
        channel: Channel = Channel.WEB,
        body_html: str = "",
        within: MessageHook | None = None,
    ) -> tuple[Ticket, Message]:
        """Add a customer message, a public reply or an internal note.

        A customer message reopens a pending or resolved ticket; on a closed ticket it opens a new ticket
        linked to the old one (returned instead). A public reply is mailed to the customer. ``within`` runs
        in the same transaction once a customer's message has an id.
        """
        async with transaction(self.runtime.sessions) as session:
            result = await self.add_message_in(
                session, principal, ticket_id, data, channel=channel, body_html=body_html, within=within
            )
        await self.runtime.after_commit()
        await live.announce(self.runtime, "updated", [result[0].id])
        return result

    async def add_message_in(
        self,
        session: AsyncSession,
        principal: Principal,
        ticket_id: int,
        data: MessageCreate,
        *,
        channel: Channel = Channel.WEB,
        body_html: str = "",
        within: MessageHook | None = None,
    ) -> tuple[Ticket, Message]:
        """The writes of :meth:`add_message` in the caller's transaction (see :meth:`open_in`)."""
        now = self.runtime.clock.now()
        ticket = policy.ensure_view(principal, await session.get(Ticket, ticket_id), ticket_id)
        if principal.is_customer:
            result = await self._customer_message(
                session, principal, ticket, data.body, now, channel, body_html
            )
            if within is not None:
                await within(session, *result)
        else:
            policy.ensure_can_work(principal)
            result = await self._staff_message(session, principal, ticket, data, now)
        await refresh_sla(session, [result[0]], now)
        return result

    async def add_field_note(
        self, actor: Principal, ticket_id: int, body: str, *, resolve: bool = False
    ) -> Message:
        """Field service's mirror of a work order step: an internal note by ``actor`` (a technician too, who
        cannot work tickets otherwise; field service authorized the step), and, with ``resolve``, the ticket
        resolved unless it is resolved or closed already. Raises ``NotFound``."""
        now = self.runtime.clock.now()
        async with transaction(self.runtime.sessions) as session:
            ticket = await session.get(Ticket, ticket_id)
            if ticket is None:
                raise NotFound(f"ticket {ticket_id} not found")
            current = TicketStatus(ticket.status)
            target = TicketStatus.RESOLVED
            status = (
                target if resolve and current != target and can_transition(current, target) else msgspec.UNSET
            )
            note = MessageCreate(body=body[:100_000] or "-", kind="internal_note", status=status)
            _, message = await self._staff_message(session, actor, ticket, note, now)
            await refresh_sla(session, [ticket], now)
        await self.runtime.after_commit()
        return message

    async def _customer_message(
        self,
        session: AsyncSession,
        principal: Principal,
        ticket: Ticket,
        body: str,
        now: datetime,
        channel: Channel,
        body_html: str,
    ) -> tuple[Ticket, Message]:
        target = status_after_customer_message(TicketStatus(ticket.status))
        if target is None:
            ticket = await self._follow_up_ticket(session, principal, ticket, now, channel)
        elif target != ticket.status:
            change_status(session, principal, ticket, target, now)
        message = Message(
            ticket_id=ticket.id,
            kind=MessageKind.CUSTOMER_MESSAGE,
            channel=channel,
            author_customer_id=principal.customer_id,
            author_user_id=None,
            body_text=body,
            body_html=body_html,
            created_at=now,
        )
        session.add(message)
        ticket.updated_at = now
        await session.flush()
        return ticket, message

    async def _follow_up_ticket(
        self, session: AsyncSession, principal: Principal, closed: Ticket, now: datetime, channel: Channel
    ) -> Ticket:
        ticket = Ticket(
            subject=closed.subject,
            status=TicketStatus.NEW,
            priority=closed.priority,
            channel=channel,
            queue_id=closed.queue_id,
            customer_id=closed.customer_id,
            organisation_id=closed.organisation_id,
            previous_ticket_id=closed.id,
            tracking_token=new_token(),
            created_at=now,
            updated_at=now,
        )
        session.add(ticket)
        await session.flush()
        audit.record(
            session,
            now,
            principal,
            ticket_id=ticket.id,
            field="created",
            old=None,
            new=f"follow-up of {closed.reference}",
        )
        customer = await session.get(Customer, closed.customer_id)
        assert customer is not None
        await start_sla(session, ticket, await policy_for_new_ticket(session, customer, now), now)
        return ticket

    async def _staff_message(
        self, session: AsyncSession, principal: Principal, ticket: Ticket, data: MessageCreate, now: datetime
    ) -> tuple[Ticket, Message]:
        public = data.kind == "public_reply"
        message = Message(
            ticket_id=ticket.id,
            kind=MessageKind.PUBLIC_REPLY if public else MessageKind.INTERNAL_NOTE,
            channel=Channel.WEB,
            author_user_id=principal.user_id,
            author_customer_id=None,
            body_text=data.body,
            body_html="",
            created_at=now,
        )
        session.add(message)
        current = TicketStatus(ticket.status)
        if data.status is not msgspec.UNSET:
            change_status(session, principal, ticket, TicketStatus(data.status), now)
        elif public:
            change_status(session, principal, ticket, status_after_agent_reply(current), now)
        if public and ticket.first_responded_at is None:
            ticket.first_responded_at = now
        ticket.updated_at = now
        await session.flush()
        if public:
            customer = await session.get(Customer, ticket.customer_id)
            assert customer is not None
            mail = await mail_customer(
                session,
                now,
                ticket,
                customer,
                template="agent_reply",
                settings=self.runtime.settings,
                auto_submitted=None,
                body=data.body,
            )
            await flush_mail_jobs(session, now, [mail])
        return ticket, message

    async def add_system_message(
        self,
        ticket_id: int,
        *,
        body: str,
        body_html: str = "",
        channel: Channel,
        author_customer_id: int | None = None,
        within: MessageHook | None = None,
    ) -> tuple[Ticket, Message]:
        """Keep a machine-made message on a ticket as an internal note (an out-of-office reply or a delivery
        failure received by mail): the ticket's status and SLA clocks do not change and nobody is mailed.
        Raises ``NotFound``."""
        async with transaction(self.runtime.sessions) as session:
            return await self.add_system_message_in(
                session, ticket_id, body=body, body_html=body_html, channel=channel,
                author_customer_id=author_customer_id, within=within,
            )  # fmt: skip

    async def add_system_message_in(
        self,
        session: AsyncSession,
        ticket_id: int,
        *,
        body: str,
        body_html: str = "",
        channel: Channel,
        author_customer_id: int | None = None,
        within: MessageHook | None = None,
    ) -> tuple[Ticket, Message]:
        """The writes of :meth:`add_system_message` in the caller's transaction (see :meth:`open_in`)."""
        now = self.runtime.clock.now()
        ticket = await session.get(Ticket, ticket_id)
        if ticket is None:
            raise NotFound(f"ticket {ticket_id} not found")
        message = Message(
            ticket_id=ticket.id,
            kind=MessageKind.INTERNAL_NOTE,
            channel=channel,
            author_customer_id=author_customer_id,
            author_user_id=None,
            body_text=body,
            body_html=body_html,
            created_at=now,
        )
        session.add(message)
        await session.flush()
        if within is not None:
            await within(session, ticket, message)
        return ticket, message
