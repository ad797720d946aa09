"""Ticket commands: open, update, reply. Every change is audited; mail goes out through the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from helpdesk.accounts.models import Group, User
from helpdesk.accounts.principal import Principal
from helpdesk.accounts.security import new_token
from helpdesk.core import live
from helpdesk.core.db import (
    Base,
    NeedsTransaction,
    TableRow,
    insert_now,
    table_of,
    transaction,
    writes_once,
)
from helpdesk.core.errors import Conflict, InvalidInput, PermissionDenied
from helpdesk.core.outbox import add_outbox_job
from helpdesk.customers.models import Customer
from helpdesk.customers.service import find_or_create_customer, normalise_email
from helpdesk.notifications.models import OutgoingMail
from helpdesk.notifications.service import SEND_JOB, flush_mail_jobs
from helpdesk.tickets import audit, policy
from helpdesk.tickets.conversation import ConversationService, MessageHook
from helpdesk.tickets.customer_mail import mail_customer
from helpdesk.tickets.intake import Intake, load_intake
from helpdesk.tickets.models import AuditEvent, Message, Ticket, TicketTag
from helpdesk.tickets.rules import (
    DEFAULT_PRIORITY,
    Channel,
    MessageKind,
    Priority,
    TicketStatus,
    normalise_tags,
    priority_from_matrix,
)
from helpdesk.tickets.schemas import TicketCreate, TicketUpdate
from helpdesk.tickets.sla_sync import new_ticket_sla, policy_cache, raised_priority, refresh_sla
from helpdesk.tickets.status import change_status

_AUDIT = table_of(AuditEvent)


class TicketService(ConversationService):
    """Opening and updating tickets; the conversation (messages, notes) comes from ``ConversationService``."""

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
        # Without a hook or tags, a ticket for a known customer is one read and one write: no transaction
        # needed around them (see Runtime.transaction). Anything more starts over in a transaction.
        one_write = within is None and not data.tags
        while True:
            try:
                async with self.runtime.transaction(one_write=one_write) as session:
                    ticket, message = await self.open_in(
                        session, principal, data, channel=channel, body_html=body_html,
                        acknowledge=acknowledge, within=within,
                    )  # fmt: skip
                break
            except NeedsTransaction:
                assert one_write
                one_write = False
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
        ``runtime.after_commit()`` and announces the new tickets. Raises what ``open`` raises.

        Without ``within`` the whole ticket takes two statements on PostgreSQL: one query for the customer,
        the SLA policy and the new rows' ids, and one INSERT of every row (ticket, message, audit, SLA, mail,
        outbox); tags, if any, follow with the session's flush.
        """
        if principal.is_staff:
            policy.ensure_can_work(principal)
        now = self.runtime.clock.now()
        if principal.is_staff and data.channel is not msgspec.UNSET:
            channel = Channel(data.channel)
        subject = _one_line(data.subject)
        if not subject:
            raise InvalidInput("subject: must not be blank", field="subject")
        # The mail and the outbox rows are written with the ticket (ids drawn up front) unless a hook runs in
        # between: its writes could take the ids of rows it does not know about (SQLite counts ids on).
        together = within is None
        intake = await self._intake(
            session,
            principal,
            data,
            now,
            mail=together and acknowledge,
            outbox=(1 + int(acknowledge)) if together else 0,
        )
        customer, ids = intake.customer, intake.ids
        ticket = Ticket(
            id=ids.ticket,
            subject=subject,
            status=TicketStatus.NEW,
            priority=self._initial_priority(principal, data, intake.policy.tier),
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
        message = Message(
            id=ids.message,
            ticket_id=ticket.id,
            kind=MessageKind.CUSTOMER_MESSAGE,
            channel=channel,
            author_customer_id=customer.id,
            author_user_id=None,
            body_text=data.description,
            body_html=body_html,
            created_at=now,
        )
        created = audit.row(now, principal, ticket_id=ticket.id, field="created", old=None, new=ticket.status)
        rows: list[Base | TableRow] = [
            ticket,
            message,
            (_AUDIT, created),
            *new_ticket_sla(ticket, intake.policy, now),
        ]
        if not together:
            assert within is not None
            await insert_now(session, rows, keep=[ticket, message])
            self._tag(session, ticket, data.tags)
            await within(session, ticket, message)
            if acknowledge:
                # Only a ticket opened by mail has earlier mail to thread with (the customer's own message).
                mail = await self._acknowledgement(
                    session, now, ticket, customer, thread=channel == Channel.EMAIL
                )
                await flush_mail_jobs(session, now, [mail])
            add_outbox_job(session, now, "suggest_for_ticket_job", ticket.id)
            return ticket, message
        outbox_ids = iter(ids.outbox)
        if acknowledge:
            mail = await self._acknowledgement(session, now, ticket, customer, thread=False)
            assert ids.mail is not None
            mail.id = ids.mail
            rows += [mail, add_outbox_job(session, now, SEND_JOB, mail.id, event_id=next(outbox_ids))]
        # Knowledge-base suggestions for the agent, computed once the ticket is committed.
        rows.append(
            add_outbox_job(session, now, "suggest_for_ticket_job", ticket.id, event_id=next(outbox_ids))
        )
        await insert_now(session, rows, keep=[ticket, message])
        self._tag(session, ticket, data.tags)
        return ticket, message

    @staticmethod
    def _tag(session: AsyncSession, ticket: Ticket, tags: list[str]) -> None:
        # Through the session's flush, not insert_now: flush hooks watch new tags (the field order rule).
        session.add_all(TicketTag(ticket_id=ticket.id, tag=tag) for tag in normalise_tags(tags))

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

    async def _intake(
        self,
        session: AsyncSession,
        principal: Principal,
        data: TicketCreate,
        now: datetime,
        *,
        mail: bool,
        outbox: int,
    ) -> Intake:
        """The customer the ticket is for (found or, for an e-mail address not seen before, created), the SLA
        policy that applies to them, and the ids of the new rows. Raises ``InvalidInput``,
        ``PermissionDenied``."""
        named = data.customer_email is not msgspec.UNSET or data.customer_id is not msgspec.UNSET
        name = None if data.customer_name is msgspec.UNSET else data.customer_name
        by: Literal["id", "email"] = "id"
        key: int | str
        if principal.is_customer:
            if named:
                raise PermissionDenied("customers open tickets for themselves only")
            assert principal.customer_id is not None
            key = principal.customer_id
        elif data.customer_id is not msgspec.UNSET:
            if not principal.is_staff:
                raise PermissionDenied("only staff open tickets for an existing customer id")
            key = data.customer_id
        elif data.customer_email is msgspec.UNSET:
            raise InvalidInput("customer_email is required", field="customer_email")
        elif name:
            # A name to give a customer who has none yet: the customers' service decides.
            if writes_once(session):
                raise NeedsTransaction
            key = (await find_or_create_customer(session, now, email=data.customer_email, name=name)).id
        else:
            by, key = "email", normalise_email(data.customer_email)
        cache = policy_cache(self.runtime)
        intake = await load_intake(session, by=by, key=key, at=now, cache=cache, mail=mail, outbox=outbox)
        if intake is None and data.customer_id is not msgspec.UNSET:
            raise InvalidInput(f"customer {data.customer_id} does not exist", field="customer_id")
        if intake is None:
            # An address not seen before.
            assert data.customer_email is not msgspec.UNSET
            if writes_once(session):
                raise NeedsTransaction
            key = (await find_or_create_customer(session, now, email=data.customer_email, name=name)).id
            intake = await load_intake(
                session, by="id", key=key, at=now, cache=cache, mail=mail, outbox=outbox
            )
        assert intake is not None
        return intake

    async def _acknowledgement(
        self, session: AsyncSession, now: datetime, ticket: Ticket, customer: Customer, *, thread: bool
    ) -> OutgoingMail:
        return await mail_customer(
            session,
            now,
            ticket,
            customer,
            template="ticket_acknowledgement",
            settings=self.runtime.settings,
            auto_submitted="auto-replied",
            thread=thread,
            name=customer.name or "",
            received_at=ticket.created_at,
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
            change_status(session, principal, ticket, TicketStatus(data.status), now)
        if data.tags is not msgspec.UNSET:
            changed = await self._replace_tags(session, principal, ticket, data.tags, now) or changed
        if changed:
            ticket.updated_at = now
            # A change of tags alone leaves the ticket row as it was when the clock has not moved; the row must
            # still be written so that its version goes up and a concurrent edit gets 409.
            flag_modified(ticket, "updated_at")

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
