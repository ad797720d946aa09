"""The agents' queue: one page of tickets with the names people read, most urgent first, and a capped count.

Read-only. A page costs a fixed number of queries: the rows (joined with queue, assignee, customer and
organisation names), their tags, their SLA clocks, and a count that stops at ``COUNT_CAP`` so a queue over a
million tickets never counts them all.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import msgspec
from sqlalchemy import func, select

from helpdesk.accounts.models import Group, GroupMember, User
from helpdesk.accounts.principal import Principal
from helpdesk.customers.models import Customer, Organisation
from helpdesk.runtime import Runtime
from helpdesk.tickets import policy
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.queries import _filtered, _visible
from helpdesk.tickets.rules import OPEN_STATUSES, Priority, TicketStatus
from helpdesk.tickets.schemas import TicketFilters
from helpdesk.tickets.urgency import TargetClock, headline, sla_clocks
from helpdesk.tickets.views import tags_for

COUNT_CAP = 1000
MAX_PER_PAGE = 100


class QueueView(StrEnum):
    MINE = "mine"
    GROUPS = "groups"
    UNASSIGNED = "unassigned"
    ALL = "all"


class BoardFilters(msgspec.Struct, kw_only=True):
    view: QueueView = QueueView.ALL
    status: list[TicketStatus] = msgspec.field(default_factory=list)
    priority: list[Priority] = msgspec.field(default_factory=list)
    queue_id: int | None = None
    customer_id: int | None = None
    organisation_id: int | None = None
    tag: str | None = None
    text: str | None = None


class BoardRow(msgspec.Struct, kw_only=True):
    id: int
    reference: str
    subject: str
    status: str
    priority: str
    channel: str
    version: int
    queue_name: str | None
    assignee_id: int | None
    assignee_name: str | None
    customer_id: int
    customer_name: str
    organisation_name: str | None
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    clock: TargetClock | None


class BoardPage(msgspec.Struct, kw_only=True):
    rows: list[BoardRow]
    page: int
    per_page: int
    has_next: bool
    # How many tickets match, counted up to COUNT_CAP (``total_capped`` says the real number is higher).
    total: int
    total_capped: bool


async def list_board(
    runtime: Runtime, principal: Principal, filters: BoardFilters, *, page: int = 1, per_page: int = 25
) -> BoardPage:
    """The page of the queue ``filters.view`` the principal asked for. Raises ``PermissionDenied``."""
    policy.ensure_can_list(principal)
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, page)
    statuses = filters.status or sorted(OPEN_STATUSES)
    ticket_filters = TicketFilters(
        queue_id=filters.queue_id,
        status=statuses,
        customer_id=filters.customer_id,
        organisation_id=filters.organisation_id,
        priority=filters.priority or None,
        tag=filters.tag or None,
        text=filters.text or None,
        unassigned=filters.view == QueueView.UNASSIGNED,
        assignee_id=principal.user_id if filters.view == QueueView.MINE else None,
    )

    def scoped(query: Any) -> Any:
        query = _filtered(_visible(query, principal), ticket_filters)
        if filters.view == QueueView.GROUPS:
            query = query.where(
                Ticket.queue_id.in_(
                    select(GroupMember.group_id).where(GroupMember.user_id == principal.user_id)
                )
            )
        return query

    query = (
        scoped(
            select(Ticket, Group.name, User.name, Customer.name, Customer.email, Organisation.name)
            .join(Customer, Customer.id == Ticket.customer_id)
            .outerjoin(Group, Group.id == Ticket.queue_id)
            .outerjoin(User, User.id == Ticket.assignee_id)
            .outerjoin(Organisation, Organisation.id == Ticket.organisation_id)
        )
        .order_by(Ticket.sla_due_at.asc().nulls_last(), Ticket.priority, Ticket.id)
        .limit(per_page + 1)
        .offset((page - 1) * per_page)
    )
    counting = scoped(select(Ticket.id)).limit(COUNT_CAP + 1).subquery()
    now = runtime.clock.now()
    async with runtime.sessions() as session:
        counted = await session.scalar(select(func.count()).select_from(counting))
        found = (await session.execute(query)).all()
        rows = found[:per_page]
        tickets = [r[0] for r in rows]
        tags = await tags_for(session, [t.id for t in tickets])
        clocks = await sla_clocks(session, tickets, now)
    total = int(counted or 0)
    return BoardPage(
        rows=[
            BoardRow(
                id=t.id,
                reference=t.reference,
                subject=t.subject,
                status=t.status,
                priority=t.priority,
                channel=t.channel,
                version=t.version,
                queue_name=queue_name,
                assignee_id=t.assignee_id,
                assignee_name=assignee_name,
                customer_id=t.customer_id,
                customer_name=customer_name or customer_email,
                organisation_name=organisation_name,
                tags=tags.get(t.id, []),
                created_at=t.created_at,
                updated_at=t.updated_at,
                clock=headline(clocks.get(t.id, [])),
            )
            for t, queue_name, assignee_name, customer_name, customer_email, organisation_name in rows
        ],
        page=page,
        per_page=per_page,
        has_next=len(found) > per_page,
        total=min(total, COUNT_CAP),
        total_capped=total > COUNT_CAP,
    )
