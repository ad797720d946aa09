"""SLA reporting queries. Read-only; every query is bounded by a period and uses indexed columns."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from sqlalchemy import Select, and_, case, func, or_, select

from helpdesk.core.errors import InvalidInput
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
        _check_period(filters)
        finished_at = func.coalesce(TargetStateRow.met_at, TargetStateRow.breached_at)
        met = func.sum(case((TargetStateRow.met_at.is_not(None), 1), else_=0))
        query = _filtered(
            select(
                TargetStateRow.target,
                met,
                func.count(),
                func.avg(TargetStateRow.margin_minutes),
            )
            .join(Ticket, Ticket.id == TargetStateRow.ticket_id)
            .where(
                or_(TargetStateRow.met_at.is_not(None), TargetStateRow.state == TargetState.BREACHED),
                and_(finished_at >= filters.since, finished_at < filters.until),
            )
            .group_by(TargetStateRow.target),
            filters,
        )
        async with self.runtime.sessions() as session:
            rows = {
                target: (int(m or 0), int(total), avg)
                for target, m, total, avg in await session.execute(query)
            }
        targets = []
        for target in SlaTarget:
            met_count, total, average = rows.get(target.value, (0, 0, None))
            targets.append(
                TargetCompliance(
                    target=target.value,
                    met=met_count,
                    breached=total - met_count,
                    compliance_percent=round(100 * met_count / total, 2) if total else None,
                    average_margin_minutes=round(float(average), 1) if average is not None else None,
                )
            )
        return ComplianceReport(since=filters.since, until=filters.until, targets=targets)


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
    if filters.queue_id is not None:
        query = query.where(Ticket.queue_id == filters.queue_id)
    if filters.priority is not None:
        query = query.where(Ticket.priority == filters.priority)
    if filters.organisation_id is not None:
        query = query.where(Ticket.organisation_id == filters.organisation_id)
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
