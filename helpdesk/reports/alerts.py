"""The dashboard's live list: open tickets in warning or breach right now, breached first, then by deadline.

Candidates are read in index order a page at a time, and only as many get their SLA clocks evaluated as it
takes to fill the list, so the cost does not grow with the open backlog: first the tickets of breached, never
met clocks that still run (the partial index ``ix_report_breached_clock_due``; a ticket's ``sla_due_at`` leaves
breached targets out), then open tickets whose next deadline is within ALERT_HORIZON (``ix_ticket_sla_due_order``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import Select, and_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.reports.counts import narrowing
from helpdesk.reports.schemas import ReportFilters
from helpdesk.runtime import Runtime
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.rules import OPEN_STATUSES
from helpdesk.tickets.urgency import BREACHED, WARNING, TargetClock, headline, sla_clocks
from sla.models import TargetStateRow
from sla.targets import TargetState

LIVE_LIMIT = 25
OPEN = [str(s) for s in OPEN_STATUSES]
PAGE = LIVE_LIMIT
# Pages of due tickets read at most: a list of LIVE_LIMIT needs far fewer unless most candidates turn out
# fine (a paused clock) or belong to other queues and organisations.
MAX_PAGES = 8
# Breached, never met clocks that still run are read CLOCK_PAGE at a time, at most MAX_CLOCK_PAGES pages. A
# resolved or closed ticket's clocks are stopped (``stopped_at``, stored with every status change) and are not in
# the index, so the list misses an open ticket's breach only behind more than 20,000 older breaches of open
# tickets outside the filters' queue, organisation or priority.
CLOCK_PAGE = 200
MAX_CLOCK_PAGES = 100
# How far ahead a deadline may be for its ticket to be looked at for a warning.
ALERT_HORIZON = timedelta(hours=8)


class LiveAlert(msgspec.Struct, kw_only=True):
    ticket_id: int
    reference: str
    subject: str
    priority: str
    queue_id: int | None
    clock: TargetClock


async def alerts_now(runtime: Runtime, filters: ReportFilters) -> list[LiveAlert]:
    """At most LIVE_LIMIT open tickets whose headline clock is in warning or breach at the clock's now."""
    now = runtime.clock.now()
    alerts: dict[int, LiveAlert] = {}
    async with runtime.sessions() as session:
        for source in (_breached(session, filters), _due_soon(session, filters, now)):
            async for page in source:
                fresh = [t for t in page if t.id not in alerts]
                clocks = await sla_clocks(session, fresh, now)
                for ticket in fresh:
                    clock = headline(clocks.get(ticket.id, []))
                    if clock is not None and clock.state in (WARNING, BREACHED):
                        alerts[ticket.id] = _alert(ticket, clock)
                if len(alerts) >= LIVE_LIMIT:
                    break
            if len(alerts) >= LIVE_LIMIT:
                break
    ordered = sorted(alerts.values(), key=lambda a: (a.clock.state != BREACHED, a.clock.due_at or now))
    return ordered[:LIVE_LIMIT]


async def _breached(session: AsyncSession, filters: ReportFilters) -> AsyncIterator[list[Ticket]]:
    """Open tickets (of the filters) with a breached, never met clock that still runs, the longest overdue
    first, PAGE at a time. The clocks are read along the partial index CLOCK_PAGE at a time, from where the last
    page ended, each joined to its ticket by primary key to tell whether it counts (open, of the filters): a
    join driven from the tickets would read every open ticket."""
    clock = TargetStateRow
    clocks = (
        select(clock.due_at, clock.ticket_id)
        .where(clock.state == TargetState.BREACHED, clock.met_at.is_(None), clock.stopped_at.is_(None))
        .order_by(clock.due_at, clock.ticket_id)
        .limit(CLOCK_PAGE)
    )
    seen: set[int] = set()
    after: tuple[Any, int] | None = None
    for _ in range(MAX_CLOCK_PAGES):
        page = (
            clocks if after is None else clocks.where(tuple_(clock.due_at, clock.ticket_id) > after)
        ).subquery()
        counts = and_(Ticket.id == page.c.ticket_id, Ticket.status.in_(OPEN), *narrowing(Ticket, filters))
        rows = (
            await session.execute(
                select(page.c.due_at, page.c.ticket_id, Ticket.id)
                .select_from(page)
                .outerjoin(Ticket, counts)
                .order_by(page.c.due_at, page.c.ticket_id)
            )
        ).all()
        if not rows:
            return
        after = (rows[-1][0], rows[-1][1])
        wanted = list(dict.fromkeys(i for _, _, i in rows if i is not None and i not in seen))
        seen.update(wanted)
        for start in range(0, len(wanted), PAGE):
            chunk = wanted[start : start + PAGE]
            found = {t.id: t for t in await session.scalars(select(Ticket).where(Ticket.id.in_(chunk)))}
            yield [found[i] for i in chunk if i in found]
        if len(rows) < CLOCK_PAGE:
            return


async def _due_soon(
    session: AsyncSession, filters: ReportFilters, now: datetime
) -> AsyncIterator[list[Ticket]]:
    due_soon = (
        _open(filters)
        .where(Ticket.sla_due_at <= now + ALERT_HORIZON)
        .order_by(Ticket.sla_due_at, Ticket.priority, Ticket.id)
    )
    for page in range(MAX_PAGES):
        tickets = list(await session.scalars(due_soon.limit(PAGE).offset(page * PAGE)))
        yield tickets
        if len(tickets) < PAGE:
            return


def _open(filters: ReportFilters) -> Select[Ticket]:
    """Open tickets of the filters."""
    return select(Ticket).where(Ticket.status.in_(OPEN), *narrowing(Ticket, filters))


def _alert(ticket: Ticket, clock: TargetClock) -> LiveAlert:
    return LiveAlert(
        ticket_id=ticket.id,
        reference=ticket.reference,
        subject=ticket.subject,
        priority=ticket.priority,
        queue_id=ticket.queue_id,
        clock=clock,
    )
