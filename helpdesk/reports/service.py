"""SLA reporting queries. Read-only; every query is bounded by a period and uses indexed columns."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime

import msgspec
from sqlalchemy import Integer, Select, case, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.core.errors import InvalidInput
from helpdesk.reports.counts import Totals, add_totals, counted_finishes, period_index, scoped, within
from helpdesk.reports.schemas import ComplianceReport, ReportFilters, SlaEvent, TargetCompliance
from helpdesk.runtime import Runtime
from helpdesk.tickets.models import Ticket
from sla.escalation import BREACH
from sla.models import EscalationFiredRow, TargetStateRow
from sla.targets import SlaTarget, TargetState

MAX_EVENTS = 10_000
MAX_PERIOD_DAYS = 366


class ReportService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def sla_events(self, filters: ReportFilters, *, limit: int = 500) -> list[SlaEvent]:
        """Breaches (by when they happened) and fired warnings in the period, newest first."""
        _check_period(filters)
        limit = max(1, min(limit, MAX_EVENTS))
        breaches = _filtered(
            select(
                Ticket,
                TargetStateRow.target,
                TargetStateRow.breached_at,
                TargetStateRow.due_at,
                TargetStateRow.margin_minutes,
            )
            .join(TargetStateRow, TargetStateRow.ticket_id == Ticket.id)
            .where(
                TargetStateRow.state == TargetState.BREACHED,
                TargetStateRow.breached_at >= filters.since,
                TargetStateRow.breached_at < filters.until,
            ),
            filters,
        )
        warnings = _filtered(
            select(
                Ticket,
                EscalationFiredRow.target,
                EscalationFiredRow.level,
                EscalationFiredRow.fired_at,
                EscalationFiredRow.due_at,
            )
            .join(EscalationFiredRow, EscalationFiredRow.ticket_id == Ticket.id)
            .where(
                EscalationFiredRow.level != BREACH,
                EscalationFiredRow.fired_at >= filters.since,
                EscalationFiredRow.fired_at < filters.until,
            ),
            filters,
        )
        events: list[SlaEvent] = []
        async with self.runtime.sessions() as session:
            for ticket, target, breached_at, due_at, margin in await session.execute(
                breaches.order_by(TargetStateRow.breached_at.desc()).limit(limit)
            ):
                events.append(_event(ticket, target, BREACH, breached_at, due_at, margin))
            for ticket, target, level, fired_at, due_at in await session.execute(
                warnings.order_by(EscalationFiredRow.fired_at.desc()).limit(limit)
            ):
                events.append(_event(ticket, target, level, fired_at, due_at, None))
        events.sort(key=lambda e: e.at, reverse=True)
        return events[:limit]

    async def compliance(self, filters: ReportFilters) -> ComplianceReport:
        """Per target, how many clocks finished in the period met versus breached."""
        return (await self.compliance_by_period(filters, [(filters.since, filters.until)]))[0]

    async def compliance_by_period(
        self, filters: ReportFilters, periods: list[tuple[datetime, datetime]]
    ) -> list[ComplianceReport]:
        """``compliance`` of consecutive periods (the dashboard's days, weeks or months). A clock counts in the period
        it finished in: when it was met (on time or late), or when it breached if it was never met. Whole hours
        and days come from the trigger-kept counters (``helpdesk.reports.counts``), the minutes around them
        from the clocks; an assignee filter (not a counter dimension) counts the clocks throughout."""
        since, until = periods[0][0], periods[-1][1]
        _check_period(msgspec.structs.replace(filters, since=since, until=until))
        async with self.runtime.sessions() as session:
            if filters.assignee_id is None:
                totals, leftovers = await counted_finishes(session, filters, periods)
            else:
                totals, leftovers = {}, [(since, until)]
            if leftovers:
                add_totals(totals, await _clock_totals(session, filters, periods, leftovers))
        return [
            ComplianceReport(
                since=start,
                until=end,
                targets=[
                    _target_compliance(target.value, *totals.get((index, target.value), (0, 0, 0.0)))
                    for target in SlaTarget
                ],
            )
            for index, (start, end) in enumerate(periods)
        ]


async def _clock_totals(
    session: AsyncSession,
    filters: ReportFilters,
    periods: list[tuple[datetime, datetime]],
    ranges: list[tuple[datetime, datetime]],
) -> Totals:
    """Met, finished and summed margins per (period index, target) of the clocks that finished in ``ranges``
    (inside ``periods``), each range read through the index on met_at or breached_at."""
    state = TargetStateRow
    met = select(
        state.target,
        state.met_at.label("finished_at"),
        # Met after its deadline is a breach (its state says so), counted when it finished.
        case((state.state == TargetState.MET, 1), else_=0).label("met"),
        state.margin_minutes.label("margin"),
    ).where(within(state.met_at, ranges))
    breached = select(state.target, state.breached_at, literal(0, Integer), state.margin_minutes).where(
        state.met_at.is_(None), state.state == TargetState.BREACHED, within(state.breached_at, ranges)
    )
    if _filters_tickets(filters):
        met = _filtered(met.join(Ticket, Ticket.id == state.ticket_id), filters)
        breached = _filtered(breached.join(Ticket, Ticket.id == state.ticket_id), filters)
    finished = union_all(met, breached).subquery()
    placed = select(
        period_index(finished.c.finished_at, periods).label("period"),
        finished.c.target,
        finished.c.met,
        finished.c.margin,
    ).subquery()
    query = select(
        placed.c.period, placed.c.target, func.sum(placed.c.met), func.count(), func.sum(placed.c.margin)
    ).group_by(placed.c.period, placed.c.target)
    return {
        (int(index), target): (int(m or 0), int(total), float(margin or 0))
        for index, target, m, total, margin in await session.execute(query)
    }


def _target_compliance(target: str, met: int, total: int, margin_sum: float) -> TargetCompliance:
    return TargetCompliance(
        target=target,
        met=met,
        breached=total - met,
        compliance_percent=round(100 * met / total, 2) if total else None,
        average_margin_minutes=round(margin_sum / total, 1) if total else None,
    )


def _filters_tickets(filters: ReportFilters) -> bool:
    return bool(filters.dimensions()) or filters.assignee_id is not None


def events_csv(events: Iterable[SlaEvent]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    columns = list(SlaEvent.__struct_fields__)
    writer.writerow(columns)
    for event in events:
        writer.writerow([_cell(getattr(event, c)) for c in columns])
    return out.getvalue()


def _cell(value: object) -> str:
    if value is None:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check_period(filters: ReportFilters) -> None:
    if filters.until <= filters.since:
        raise InvalidInput("until must be after since", field="until")
    if (filters.until - filters.since).days > MAX_PERIOD_DAYS:
        raise InvalidInput(f"the period may span at most {MAX_PERIOD_DAYS} days", field="since")


def _filtered(query: Select, filters: ReportFilters) -> Select:  # type: ignore[type-arg]
    query = scoped(query, Ticket, filters)
    if filters.assignee_id is not None:
        query = query.where(Ticket.assignee_id == filters.assignee_id)
    return query


def _event(
    ticket: Ticket, target: str, level: str, at: object, due_at: object, margin: float | None
) -> SlaEvent:
    return SlaEvent(
        ticket_id=ticket.id,
        reference=ticket.reference,
        subject=ticket.subject,
        priority=ticket.priority,
        status=ticket.status,
        queue_id=ticket.queue_id,
        assignee_id=ticket.assignee_id,
        organisation_id=ticket.organisation_id,
        target=target,
        level=level,
        at=at,  # type: ignore[arg-type]
        due_at=due_at,  # type: ignore[arg-type]
        margin_minutes=margin,
    )
