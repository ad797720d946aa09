"""What the managers' dashboard shows, each figure one bounded query: SLA compliance per target over time,
breaches and warnings now, backlog by queue and priority, first-response and resolution time distributions,
satisfaction, and warranty versus billable field work when field service is installed."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.exc import SQLAlchemyError

from helpdesk.accounts.models import Group
from helpdesk.core.db import Base
from helpdesk.feedback.service import FeedbackService, SatisfactionSummary
from helpdesk.reports.schemas import ReportFilters, TargetCompliance
from helpdesk.reports.service import ReportService
from helpdesk.runtime import Runtime
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.rules import OPEN_STATUSES
from helpdesk.tickets.urgency import BREACHED, WARNING, TargetClock, headline, sla_clocks
from sla.models import TargetStateRow
from sla.targets import TargetState

MAX_BUCKETS = 12
SAMPLE_LIMIT = 20_000
LIVE_LIMIT = 25
# Upper bounds (hours) of the time-distribution bars; the last bar holds everything longer.
HOUR_BOUNDS = (1, 4, 8, 24, 72)


class CompliancePoint(msgspec.Struct, kw_only=True):
    since: datetime
    until: datetime
    targets: list[TargetCompliance]


class LiveAlert(msgspec.Struct, kw_only=True):
    ticket_id: int
    reference: str
    subject: str
    priority: str
    queue_id: int | None
    clock: TargetClock


class BacklogCell(msgspec.Struct, kw_only=True):
    queue: str
    priority: str
    count: int


class Distribution(msgspec.Struct, kw_only=True):
    labels: list[str]
    first_response: list[int]
    resolution: list[int]
    sampled: int


class FieldWork(msgspec.Struct, kw_only=True):
    available: bool
    by_billing: dict[str, int]
    minutes_by_billing: dict[str, int]


def buckets(since: datetime, until: datetime) -> list[tuple[datetime, datetime]]:
    """Consecutive periods covering [since, until): days up to two weeks, else weeks, at most MAX_BUCKETS
    (the earliest ones dropped)."""
    step = timedelta(days=1) if until - since <= timedelta(days=14) else timedelta(days=7)
    result: list[tuple[datetime, datetime]] = []
    end = until
    while end > since and len(result) < MAX_BUCKETS:
        start = max(since, end - step)
        result.append((start, end))
        end = start
    return list(reversed(result))


def hour_labels() -> list[str]:
    labels, low = [], 0
    for bound in HOUR_BOUNDS:
        labels.append(f"{low}–{bound} h")
        low = bound
    return [*labels, f"> {HOUR_BOUNDS[-1]} h"]


def bar_index(hours: float) -> int:
    return next((i for i, bound in enumerate(HOUR_BOUNDS) if hours <= bound), len(HOUR_BOUNDS))


class DashboardQueries:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def compliance_over_time(self, filters: ReportFilters) -> list[CompliancePoint]:
        periods = buckets(filters.since, filters.until)
        reports = await ReportService(self.runtime).compliance_by_period(filters, periods)
        return [CompliancePoint(since=r.since, until=r.until, targets=r.targets) for r in reports]

    async def alerts_now(self, filters: ReportFilters) -> list[LiveAlert]:
        """Open tickets in warning or breach right now, most urgent first."""
        now = self.runtime.clock.now()
        # Open tickets only: a closed ticket's clock that was never met stays breached for ever.
        breached_ids = (
            select(TargetStateRow.ticket_id)
            .join(Ticket, Ticket.id == TargetStateRow.ticket_id)
            .where(
                TargetStateRow.state == TargetState.BREACHED,
                TargetStateRow.met_at.is_(None),
                Ticket.status.in_([str(s) for s in OPEN_STATUSES]),
            )
            .limit(LIVE_LIMIT * 4)
        )
        query = (
            _scoped(
                select(Ticket).where(
                    Ticket.status.in_([str(s) for s in OPEN_STATUSES]),
                    or_(Ticket.sla_due_at <= now + timedelta(hours=8), Ticket.id.in_(breached_ids)),
                ),
                filters,
            )
            .order_by(Ticket.sla_due_at.asc().nulls_first(), Ticket.id)
            .limit(LIVE_LIMIT * 4)
        )
        async with self.runtime.sessions() as session:
            tickets = list((await session.scalars(query)).all())
            clocks = await sla_clocks(session, tickets, now)
        alerts = []
        for ticket in tickets:
            clock = headline(clocks.get(ticket.id, []))
            if clock is not None and clock.state in (WARNING, BREACHED):
                alerts.append(
                    LiveAlert(
                        ticket_id=ticket.id,
                        reference=ticket.reference,
                        subject=ticket.subject,
                        priority=ticket.priority,
                        queue_id=ticket.queue_id,
                        clock=clock,
                    )
                )
        alerts.sort(key=lambda a: (a.clock.state != BREACHED, a.clock.due_at or now))
        return alerts[:LIVE_LIMIT]

    async def backlog(self, filters: ReportFilters) -> list[BacklogCell]:
        query = _scoped(
            select(Group.name, Ticket.priority, func.count())
            .select_from(Ticket)
            .outerjoin(Group, Group.id == Ticket.queue_id)
            .where(Ticket.status.in_([str(s) for s in OPEN_STATUSES]))
            .group_by(Group.name, Ticket.priority),
            filters,
        )
        async with self.runtime.sessions() as session:
            rows = (await session.execute(query)).all()
        return sorted(
            (BacklogCell(queue=name or "—", priority=priority, count=int(n)) for name, priority, n in rows),
            key=lambda c: (c.queue, c.priority),
        )

    async def time_distribution(self, filters: ReportFilters) -> Distribution:
        """Wall-clock hours to the first response and to resolution of tickets opened in the period (a sample
        of at most SAMPLE_LIMIT, the newest), counted per bar by the database."""
        sample = (
            _scoped(
                select(Ticket.created_at, Ticket.first_responded_at, Ticket.resolved_at).where(
                    Ticket.created_at >= filters.since, Ticket.created_at < filters.until
                ),
                filters,
            )
            .order_by(Ticket.created_at.desc())
            .limit(SAMPLE_LIMIT)
            .subquery()
        )
        dialect = self.runtime.engine.dialect.name
        first_bar = _bar(_hours(sample.c.first_responded_at, sample.c.created_at, dialect))
        resolution_bar = _bar(_hours(sample.c.resolved_at, sample.c.created_at, dialect))
        bars_of = select(first_bar.label("first"), resolution_bar.label("resolution")).subquery()
        query = select(bars_of.c.first, bars_of.c.resolution, func.count()).group_by(
            bars_of.c.first, bars_of.c.resolution
        )
        first: Counter[int] = Counter()
        resolution: Counter[int] = Counter()
        sampled = 0
        async with self.runtime.sessions() as session:
            for first_index, resolution_index, count in await session.execute(query):
                sampled += int(count)
                if first_index is not None:
                    first[int(first_index)] += int(count)
                if resolution_index is not None:
                    resolution[int(resolution_index)] += int(count)
        bars = range(len(HOUR_BOUNDS) + 1)
        return Distribution(
            labels=hour_labels(),
            first_response=[first[i] for i in bars],
            resolution=[resolution[i] for i in bars],
            sampled=sampled,
        )

    async def satisfaction(self, filters: ReportFilters) -> SatisfactionSummary:
        return await FeedbackService(self.runtime).summary(
            since=filters.since,
            until=filters.until,
            queue_id=filters.queue_id,
            organisation_id=filters.organisation_id,
        )

    async def field_work(self, filters: ReportFilters) -> FieldWork:
        """Work orders by who pays (warranty, contract, billable) in the period; ``available`` is false when
        field service is not installed."""
        table = Base.metadata.tables.get("work_order")
        if table is None:
            return FieldWork(available=False, by_billing={}, minutes_by_billing={})
        query = (
            select(table.c.billing, func.count(), func.coalesce(func.sum(table.c.time_on_site_minutes), 0))
            .where(table.c.created_at >= filters.since, table.c.created_at < filters.until)
            .group_by(table.c.billing)
        )
        if filters.organisation_id is not None:
            query = query.where(table.c.organisation_id == filters.organisation_id)
        try:
            async with self.runtime.sessions() as session:
                rows = (await session.execute(query)).all()
        except SQLAlchemyError:  # the tables are declared but not migrated in this database
            return FieldWork(available=False, by_billing={}, minutes_by_billing={})
        return FieldWork(
            available=True,
            by_billing={str(b): int(n) for b, n, _ in rows},
            minutes_by_billing={str(b): int(m) for b, _, m in rows},
        )


def _hours(later: Any, earlier: Any, dialect: str) -> Any:
    """Hours from ``earlier`` to ``later`` in SQL (null when ``later`` is)."""
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier) / 3600
    return (func.julianday(later) - func.julianday(earlier)) * 24


def _bar(hours: Any) -> Any:
    """The bar (``bar_index``) of a number of hours, in SQL; null stays null."""
    return case(
        (hours.is_(None), None),
        *((hours <= bound, index) for index, bound in enumerate(HOUR_BOUNDS)),
        else_=len(HOUR_BOUNDS),
    )


def _scoped(query: Select, filters: ReportFilters) -> Select:  # type: ignore[type-arg]
    if filters.queue_id is not None:
        query = query.where(Ticket.queue_id == filters.queue_id)
    if filters.organisation_id is not None:
        query = query.where(Ticket.organisation_id == filters.organisation_id)
    if filters.priority is not None:
        query = query.where(Ticket.priority == filters.priority)
    return query
