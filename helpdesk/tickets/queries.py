"""Reading tickets: the queue, one ticket with its conversation, the public tracking view."""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, Select, and_, func, or_, select

from helpdesk.accounts.principal import Principal
from helpdesk.core.errors import NotFound
from helpdesk.runtime import Runtime
from helpdesk.tickets import policy
from helpdesk.tickets.models import AuditEvent, Ticket, TicketTag
from helpdesk.tickets.rules import TicketStatus, parse_ticket_reference
from helpdesk.tickets.schemas import (
    AuditRead,
    TicketDetail,
    TicketFilters,
    TicketPage,
    TicketRead,
    TrackingView,
)
from helpdesk.tickets.sla_sync import sla_view
from helpdesk.tickets.views import attachments_for, messages_for, tags_for, ticket_read
from sla.schemas import TicketSlaRead

MAX_PAGE = 200
# Past this many matches the queue says "10,000+" rather than counting every row.
COUNT_CAP = 10_000


class TicketQueries:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def list_tickets(
        self, principal: Principal, filters: TicketFilters, *, limit: int = 50, offset: int = 0
    ) -> TicketPage:
        """Tickets the principal may see, most urgent first: earliest SLA due, then priority, then oldest."""
        policy.ensure_can_list(principal)
        limit = max(1, min(limit, MAX_PAGE))
        query = _visible(select(Ticket), principal)
        query = _filtered(query, filters)
        async with self.runtime.sessions() as session:
            # Counting a whole million-ticket queue costs more than the page itself: count up to a cap.
            counted = query.order_by(None).with_only_columns(Ticket.id).limit(COUNT_CAP + 1).subquery()
            total = int(await session.scalar(select(func.count()).select_from(counted)) or 0)
            rows = (
                await session.scalars(
                    query.order_by(Ticket.sla_due_at.asc().nulls_last(), Ticket.priority, Ticket.id)
                    .limit(limit)
                    .offset(max(0, offset))
                )
            ).all()
            tags = await tags_for(session, [t.id for t in rows])
        base = self.runtime.settings.base_url
        return TicketPage(
            items=[ticket_read(t, tags.get(t.id, []), base) for t in rows],
            total=min(total, COUNT_CAP),
            total_capped=total > COUNT_CAP,
            limit=limit,
            offset=offset,
        )

    async def get_ticket_read(self, ticket_id: int) -> TicketRead:
        """A ticket the caller has just written (no permission check: the write checked it)."""
        async with self.runtime.sessions() as session:
            ticket = await session.get(Ticket, ticket_id)
            if ticket is None:
                raise NotFound(f"ticket {ticket_id} not found")
            tags = (await tags_for(session, [ticket.id])).get(ticket.id, [])
        return ticket_read(ticket, tags, self.runtime.settings.base_url)

    async def get_ticket(self, principal: Principal, ticket_id: int) -> TicketDetail:
        """One ticket with its conversation (internal notes and audit for staff only). Raises ``NotFound``."""
        async with self.runtime.sessions() as session:
            ticket = policy.ensure_view(principal, await session.get(Ticket, ticket_id), ticket_id)
            staff = principal.is_staff
            messages = await messages_for(session, ticket.id, include_internal=staff)
            attachments = await attachments_for(
                session,
                ticket.id,
                visible_message_ids=None if staff else {m.id for m in messages},
                url_prefix="/api/v1/attachments",
            )
            audit_rows = (
                (
                    await session.scalars(
                        select(AuditEvent).where(AuditEvent.ticket_id == ticket.id).order_by(AuditEvent.id)
                    )
                ).all()
                if staff
                else []
            )
            tags = (await tags_for(session, [ticket.id])).get(ticket.id, [])
        read = ticket_read(ticket, tags, self.runtime.settings.base_url)
        return TicketDetail(
            **{f: getattr(read, f) for f in read.__struct_fields__},
            messages=messages,
            attachments=attachments,
            audit=[
                AuditRead(
                    actor=a.actor,
                    field=a.field,
                    old_value=a.old_value,
                    new_value=a.new_value,
                    created_at=a.created_at,
                )
                for a in audit_rows
            ],
        )

    async def get_sla(self, principal: Principal, ticket_id: int) -> TicketSlaRead:
        """The ticket's SLA targets now (staff and the ticket's customers). Raises ``NotFound``."""
        async with self.runtime.sessions() as session:
            ticket = policy.ensure_view(principal, await session.get(Ticket, ticket_id), ticket_id)
            view = await sla_view(session, ticket, self.runtime.clock.now())
        if view is None:
            raise NotFound(f"{ticket.reference} has no SLA")
        return view

    async def track(self, token: str) -> TrackingView:
        """The public view behind a tracking link; an unknown token is ``NotFound``."""
        async with self.runtime.sessions() as session:
            ticket = await session.scalar(select(Ticket).where(Ticket.tracking_token == token))
            if ticket is None or len(token) < 20:
                raise NotFound("no request with this tracking link")
            messages = await messages_for(session, ticket.id, include_internal=False)
            attachments = await attachments_for(
                session,
                ticket.id,
                visible_message_ids={m.id for m in messages},
                url_prefix=f"/track/{token}/attachments",
            )
        return TrackingView(
            reference=ticket.reference,
            subject=ticket.subject,
            status=TicketStatus(ticket.status),
            created_at=ticket.created_at,
            updated_at=ticket.updated_at,
            resolved_at=ticket.resolved_at,
            messages=messages,
            attachments=attachments,
        )


def _visible(query: Select[Ticket], principal: Principal) -> Select[Ticket]:
    if principal.is_staff:
        return query
    if principal.organisation_shares and principal.organisation_id is not None:
        return query.where(
            or_(
                Ticket.customer_id == principal.customer_id,
                Ticket.organisation_id == principal.organisation_id,
            )
        )
    return query.where(Ticket.customer_id == principal.customer_id)


def _filtered(query: Select[Ticket], filters: TicketFilters) -> Select[Ticket]:
    if filters.queue_id is not None:
        query = query.where(Ticket.queue_id == filters.queue_id)
    if filters.status:
        query = query.where(Ticket.status.in_([str(s) for s in filters.status]))
    if filters.unassigned:
        query = query.where(Ticket.assignee_id.is_(None))
    elif filters.assignee_id is not None:
        query = query.where(Ticket.assignee_id == filters.assignee_id)
    if filters.customer_id is not None:
        query = query.where(Ticket.customer_id == filters.customer_id)
    if filters.organisation_id is not None:
        query = query.where(Ticket.organisation_id == filters.organisation_id)
    if filters.priority:
        query = query.where(Ticket.priority.in_([str(p) for p in filters.priority]))
    if filters.tag:
        query = query.where(
            Ticket.id.in_(select(TicketTag.ticket_id).where(TicketTag.tag == filters.tag.strip().lower()))
        )
    if filters.text:
        text = filters.text.strip()
        referenced = parse_ticket_reference(text)
        condition = _subject_contains(text)
        query = query.where(or_(condition, Ticket.id == referenced) if referenced else condition)
    return query


def _subject_contains(text: str) -> ColumnElement[bool]:
    """Subjects containing ``text``, any case. ILIKE: on PostgreSQL the subject's trigram index answers it (a
    million subjects are not read). For several words the index is asked for one word only (see
    :func:`search_word`) and the whole text is checked on what it finds: the trigrams of a phrase of common
    words ("request 777777:") would make the index read nearly every ticket (470 ms -> 53 ms at 1M)."""
    pattern = f"%{_escape_like(text)}%"
    word = search_word(text)
    if word is None or word == text:
        return Ticket.subject.ilike(pattern, escape="\\")
    # lower(subject) is not what the index covers, so the planner filters with it instead of reading more.
    return and_(
        Ticket.subject.ilike(f"%{_escape_like(word)}%", escape="\\"),
        func.lower(Ticket.subject).like(func.lower(pattern), escape="\\"),
    )


def search_word(text: str) -> str | None:
    """The word of a search most likely to be rare among subjects: one with a digit (an error code, a serial
    or an order number) before letters only, then the longest; None when no word has three characters (the
    index needs a trigram)."""
    words: list[str] = [word for word in re.findall(r"\w+", text) if len(word) >= 3]
    if not words:
        return None
    return max(words, key=lambda word: (any(c.isdigit() for c in word), len(word)))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
