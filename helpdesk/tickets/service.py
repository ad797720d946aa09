"""Ticket commands: open, update, reply. Every change is audited; mail goes out through the outbox."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

import msgspec
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from helpdesk.accounts.models import Group, User
from helpdesk.accounts.principal import Principal
from helpdesk.accounts.security import new_token
from helpdesk.core import live
from helpdesk.core.db import transaction
from helpdesk.core.errors import Conflict, InvalidInput, InvalidTransition, NotFound, PermissionDenied
from helpdesk.core.outbox import add_outbox_job
from helpdesk.customers.models import Customer
from helpdesk.customers.service import find_or_create_customer
from helpdesk.notifications.models import OutgoingMail
from helpdesk.notifications.rendering import render_mail
from helpdesk.notifications.service import flush_mail_jobs, queue_mail, thread_headers
from helpdesk.runtime import Runtime
from helpdesk.tickets import audit, policy
from helpdesk.tickets.models import Message, Ticket, TicketTag
from helpdesk.tickets.rules import (
    DEFAULT_PRIORITY,
    WORKING_STATUS_TIMESTAMPS,
    Channel,
    MessageKind,
    Priority,
    TicketStatus,
    can_transition,
    normalise_tags,
    priority_from_matrix,
    status_after_agent_reply,
    status_after_customer_message,
)
from helpdesk.tickets.schemas import MessageCreate, TicketCreate, TicketUpdate
from helpdesk.tickets.sla_sync import policy_for_new_ticket, raised_priority, refresh_sla, start_sla

# Writes a channel adds to the transaction that stores a message (the e-mail channel records the raw mail,
# its attachments and Message-ID there, so a crash never leaves a message without its mail or vice versa).
MessageHook = Callable[[AsyncSession, Ticket, Message], Awaitable[None]]


class TicketService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    @property
    def _base_url(self) -> str:
        return self.runtime.settings.base_url

    async def open_ticket(
        self, principal: Principal, data: TicketCreate, *, channel: Channel, client: str = "unknown"
    ) -> Ticket:
        """Create a ticket with its first message and acknowledge it to the customer (see ``open``)."""
        ticket, _ = await self.open(principal, data, channel=channel, client=client)
        return ticket

    async def open(
        self,
        principal: Principal,
        data: TicketCreate,
        *,
        channel: Channel,
        client: str = "unknown",
        body_html: str = "",
        acknowledge: bool = True,
        within: MessageHook | None = None,
    ) -> tuple[Ticket, Message]:
        """Create a ticket with its first message and (unless ``acknowledge`` is false, e.g. for mail that
        must not be answered automatically) acknowledge it to the customer.

        Customers open for themselves; staff name the customer (a phone ticket); anonymous requests (the
        portal form) give an e-mail and are rate limited. ``within`` runs in the same transaction once the
        message has an id, before the acknowledgement is queued. Raises ``InvalidInput``,
        ``PermissionDenied``, ``RateLimited``.
        """
        if principal.is_staff:
            policy.ensure_can_work(principal)
        elif not principal.is_customer:
            await self.runtime.rate_limiter.hit(
                f"ticket:{client}", self.runtime.settings.public_ticket_rate_per_minute
            )
        async with transaction(self.runtime.sessions) as session:
            ticket, message = await self.open_in(
                session, principal, data, channel=channel, body_html=body_html, acknowledge=acknowledge,
                within=within,
            )  # fmt: skip
        await self.runtime.after_commit()
        await live.announce(self.runtime, "created", [ticket.id])
        return ticket, message

    async def open_in(
        self,
        session: AsyncSession,
        principal: Principal,
        data: TicketCreate,
        *,
        channel: Channel,
        body_html: str = "",
        acknowledge: bool = True,
        within: MessageHook | None = None,
    ) -> tuple[Ticket, Message]:
        """The writes of :meth:`open` in the caller's transaction, for a channel that stores many messages
        per transaction (the e-mail batch). No rate limit here; the caller commits, then calls
        ``runtime.after_commit()`` and announces the new tickets. Raises what ``open`` raises."""
        if principal.is_staff:
            policy.ensure_can_work(principal)
        now = self.runtime.clock.now()
        mails: list[OutgoingMail] = []
        customer = await self._customer_for(session, principal, data, now)
        if principal.is_staff and data.channel is not msgspec.UNSET:
            channel = Channel(data.channel)
        subject = _one_line(data.subject)
        if not subject:
            raise InvalidInput("subject: must not be blank", field="subject")
        resolved = await policy_for_new_ticket(session, customer, now)
        ticket = Ticket(
            subject=subject,
            status=TicketStatus.NEW,
            priority=self._initial_priority(principal, data, resolved.tier),
            impact=None if data.impact is msgspec.UNSET else data.impact,
            urgency=None if data.urgency is msgspec.UNSET else data.urgency,
            channel=channel,
            queue_id=await self._queue_id(session, principal, data),
            customer_id=customer.id,
            organisation_id=customer.organisation_id,
            tracking_token=new_token(),
            created_at=now,
            updated_at=now,
        )
        session.add(ticket)
        await session.flush()
        for tag in normalise_tags(data.tags):
            session.add(TicketTag(ticket_id=ticket.id, tag=tag))
        message = Message(
            ticket_id=ticket.id,
            kind=MessageKind.CUSTOMER_MESSAGE,
            channel=channel,
            author_customer_id=customer.id,
            author_user_id=None,
            body_text=data.description,
            body_html=body_html,
            created_at=now,
        )
        session.add(message)
        audit.record(
            session, now, principal, ticket_id=ticket.id, field="created", old=None, new=ticket.status
        )
        await start_sla(session, ticket, resolved, now)
        if within is not None:
            await session.flush()
            await within(session, ticket, message)
        if acknowledge:
            mails.append(await self._acknowledgement(session, now, ticket, customer))
        await flush_mail_jobs(session, now, mails)
        # Knowledge-base suggestions for the agent, computed once the ticket is committed.
        add_outbox_job(session, now, "suggest_for_ticket_job", ticket.id)
        return ticket, message

    def _initial_priority(self, principal: Principal, data: TicketCreate, tier: int) -> Priority:
        """An agent's explicit choice, else impact × urgency raised by the contract's tier, else the default."""
        if data.priority is not msgspec.UNSET:
            if not principal.is_staff:
                raise PermissionDenied("only staff set a priority; give impact and urgency instead")
            return Priority(data.priority)
        if data.impact is not msgspec.UNSET and data.urgency is not msgspec.UNSET:
            return raised_priority(priority_from_matrix(data.impact, data.urgency), tier)
        return raised_priority(DEFAULT_PRIORITY, tier)

    async def _queue_id(self, session: AsyncSession, principal: Principal, data: TicketCreate) -> int | None:
        if data.queue_id is msgspec.UNSET:
            return None
        if not principal.is_staff:
            raise PermissionDenied("only staff choose a queue")
        if await session.get(Group, data.queue_id) is None:
            raise InvalidInput(f"queue {data.queue_id} does not exist", field="queue_id")
        return data.queue_id

    async def _customer_for(
        self, session: AsyncSession, principal: Principal, data: TicketCreate, now: datetime
    ) -> Customer:
        named = data.customer_email is not msgspec.UNSET or data.customer_id is not msgspec.UNSET
        if principal.is_customer:
            if named:
                raise PermissionDenied("customers open tickets for themselves only")
            customer = await session.get(Customer, principal.customer_id)
            assert customer is not None
            return customer
        if data.customer_id is not msgspec.UNSET:
            if not principal.is_staff:
                raise PermissionDenied("only staff open tickets for an existing customer id")
            customer = await session.get(Customer, data.customer_id)
            if customer is None:
                raise InvalidInput(f"customer {data.customer_id} does not exist", field="customer_id")
            return customer
        if data.customer_email is msgspec.UNSET:
            raise InvalidInput("customer_email is required", field="customer_email")
        name = None if data.customer_name is msgspec.UNSET else data.customer_name
        return await find_or_create_customer(session, now, email=data.customer_email, name=name)

    async def _acknowledgement(
        self, session: AsyncSession, now: datetime, ticket: Ticket, customer: Customer
    ) -> OutgoingMail:
        rendered = render_mail(
            "ticket_acknowledgement",
            customer.language,
            name=customer.name or "",
            reference=ticket.reference,
            subject=ticket.subject,
            link=f"{self._base_url}/track/{ticket.tracking_token}",
        )
        in_reply_to, references = await thread_headers(session, ticket.id)
        return queue_mail(
            session,
            now,
            kind="ticket_acknowledgement",
            ticket_id=ticket.id,
            to_address=customer.email,
            subject=rendered.subject,
            body_text=rendered.body_text,
            body_html=rendered.body_html,
            in_reply_to=in_reply_to,
            references=references,
            auto_submitted="auto-replied",
        )

    async def update_ticket(self, principal: Principal, ticket_id: int, data: TicketUpdate) -> Ticket:
        """Apply the changes if ``data.version`` is current. Raises ``Conflict`` (stale version),
        ``InvalidTransition``, ``InvalidInput``, ``NotFound``, ``PermissionDenied``."""
        policy.ensure_can_work(principal)
        now = self.runtime.clock.now()
        try:
            async with transaction(self.runtime.sessions) as session:
                ticket = policy.ensure_view(principal, await session.get(Ticket, ticket_id), ticket_id)
                if ticket.version != data.version:
                    raise Conflict(
                        f"{ticket.reference} was changed by someone else since you read it "
                        f"(you sent version {data.version}, it is now {ticket.version}); reload and try again",
                        field="version",
                        code="stale_version",
                    )
                await self._apply_update(session, principal, ticket, data, now)
                await refresh_sla(session, [ticket], now)
        except StaleDataError as exc:
            raise Conflict(
                f"ticket {ticket_id} was changed by someone else at the same time; reload and try again",
                field="version",
                code="stale_version",
            ) from exc
        await self.runtime.after_commit()
        await live.announce(self.runtime, "updated", [ticket.id])
        return ticket

    async def _apply_update(
        self, session: AsyncSession, principal: Principal, ticket: Ticket, data: TicketUpdate, now: datetime
    ) -> None:
        changed = False

        def change(field: str, new: object) -> None:
            nonlocal changed
            old = getattr(ticket, field)
            if old != new:
                audit.record(session, now, principal, ticket_id=ticket.id, field=field, old=old, new=new)
                setattr(ticket, field, new)
                changed = True

        if data.subject is not msgspec.UNSET:
            change("subject", _one_line(data.subject))
        if data.priority is not msgspec.UNSET:
            change("priority", str(data.priority))
        if data.queue_id is not msgspec.UNSET:
            if data.queue_id is not None and await session.get(Group, data.queue_id) is None:
                raise InvalidInput(f"queue {data.queue_id} does not exist", field="queue_id")
            change("queue_id", data.queue_id)
        if data.assignee_id is not msgspec.UNSET:
            if data.assignee_id is not None:
                await _ensure_assignable(session, data.assignee_id)
            change("assignee_id", data.assignee_id)
        if data.status is not msgspec.UNSET:
            self._change_status(session, principal, ticket, TicketStatus(data.status), now)
        if data.tags is not msgspec.UNSET:
            changed = await self._replace_tags(session, principal, ticket, data.tags, now) or changed
        if changed:
            ticket.updated_at = now
            # A change of tags alone leaves the ticket row as it was when the clock has not moved; the row must
            # still be written so that its version goes up and a concurrent edit gets 409.
            flag_modified(ticket, "updated_at")

    def _change_status(
        self, session: AsyncSession, principal: Principal, ticket: Ticket, target: TicketStatus, now: datetime
    ) -> None:
        current = TicketStatus(ticket.status)
        if target == current:
            return
        if not can_transition(current, target):
            raise InvalidTransition(
                f"a {current} ticket cannot become {target}"
                + (
                    "; a customer reply opens a new ticket linked to it"
                    if current == TicketStatus.CLOSED
                    else ""
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

    async def _replace_tags(
        self, session: AsyncSession, principal: Principal, ticket: Ticket, tags: list[str], now: datetime
    ) -> bool:
        old = sorted(
            (await session.scalars(select(TicketTag.tag).where(TicketTag.ticket_id == ticket.id))).all()
        )
        new = sorted(normalise_tags(tags))
        if old == new:
            return False
        await session.execute(delete(TicketTag).where(TicketTag.ticket_id == ticket.id))
        for tag in new:
            session.add(TicketTag(ticket_id=ticket.id, tag=tag))
        audit.record(session, now, principal, ticket_id=ticket.id, field="tags", old=old, new=new)
        return True

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
            self._change_status(session, principal, ticket, target, now)
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
            self._change_status(session, principal, ticket, TicketStatus(data.status), now)
        elif public:
            self._change_status(session, principal, ticket, status_after_agent_reply(current), now)
        if public and ticket.first_responded_at is None:
            ticket.first_responded_at = now
        ticket.updated_at = now
        await session.flush()
        if public:
            customer = await session.get(Customer, ticket.customer_id)
            assert customer is not None
            rendered = render_mail(
                "agent_reply",
                customer.language,
                body=data.body,
                reference=ticket.reference,
                subject=ticket.subject,
                link=f"{self._base_url}/track/{ticket.tracking_token}",
            )
            in_reply_to, references = await thread_headers(session, ticket.id)
            mail = queue_mail(
                session,
                now,
                kind="agent_reply",
                ticket_id=ticket.id,
                to_address=customer.email,
                subject=rendered.subject,
                body_text=rendered.body_text,
                body_html=rendered.body_html,
                in_reply_to=in_reply_to,
                references=references,
                auto_submitted=None,
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


async def _ensure_assignable(session: AsyncSession, user_id: int) -> None:
    user = await session.get(User, user_id)
    if user is None or not user.is_active:
        raise InvalidInput(f"user {user_id} does not exist or is inactive", field="assignee_id")
    if user.role not in policy.WORKING_ROLES:
        raise InvalidInput(
            f"user {user_id} is a {user.role} and cannot be assigned tickets", field="assignee_id"
        )


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]
