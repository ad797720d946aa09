"""What the managers' dashboard shows, each figure one bounded query: SLA compliance per target over time,
breaches and warnings now, backlog by queue and priority, first-response and resolution time distributions,
satisfaction, and warranty versus billable field work when field service is installed."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from enum import StrEnum
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import case, func, literal_column, select
from sqlalchemy.exc import SQLAlchemyError

from helpdesk.accounts.models import Group
from helpdesk.core.db import Base
from helpdesk.feedback.models import SatisfactionRating
from helpdesk.feedback.service import SCORES, SatisfactionSummary
from helpdesk.reports.alerts import LiveAlert, alerts_now
from helpdesk.reports.counts import counted, open_backlog, scoped, within
from helpdesk.reports.schemas import ReportFilters, TargetCompliance
from helpdesk.reports.service import ReportService
from helpdesk.runtime import Runtime
from helpdesk.tickets.models import Ticket
from sla.calendar import start_of_local_day

# Enough for 90 days in weeks and a year in calendar months (13: the first and last cut).
MAX_BUCKETS = 16
ONE_DAY, ONE_WEEK = timedelta(days=1), timedelta(days=7)
UTC_ZONE = ZoneInfo("UTC")
SAMPLE_LIMIT = 20_000
# Upper bounds (hours) of the time-distribution bars; the last bar holds everything longer.
HOUR_BOUNDS = (1, 4, 8, 24, 72)


class CompliancePoint(msgspec.Struct, kw_only=True):
    since: datetime
    until: datetime
    targets: list[TargetCompliance]


class BacklogCell(msgspec.Struct, kw_only=True):
    queue: str
    priority: str
    count: int


class QueueChoice(msgspec.Struct, kw_only=True):
    id: int
    name: str


class Distribution(msgspec.Struct, kw_only=True):
    labels: list[str]
    first_response: list[int]
    resolution: list[int]
    sampled: int


class FieldWork(msgspec.Struct, kw_only=True):
    available: bool
    by_billing: dict[str, int]
    minutes_by_billing: dict[str, int]


class Step(StrEnum):
    """How long one bucket of the compliance chart is."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"


def bucket_step(since: datetime, until: datetime) -> Step:
    """Days while there are at most MAX_BUCKETS of them, then weeks, then calendar months (a period of N days
    touches up to N + 1 local days, the first and last cut)."""
    if until - since <= (MAX_BUCKETS - 1) * ONE_DAY:
        return Step.DAY
    if until - since <= (MAX_BUCKETS - 1) * ONE_WEEK:
        return Step.WEEK
    return Step.MONTH


def buckets(since: datetime, until: datetime, zone: ZoneInfo = UTC_ZONE) -> list[tuple[datetime, datetime]]:
    """Consecutive periods covering [since, until) exactly, at most MAX_BUCKETS, none empty (none at all for an
    empty period): the days, weeks (from Monday) or calendar months of ``zone`` (``bucket_step``), the first
    and last cut at ``since`` and ``until``, so that each bucket is the local day, week or month its label
    names; months are grouped several to a bucket when there are more than MAX_BUCKETS."""
    if until <= since:
        return []
    step = bucket_step(since, until)
    if step is Step.MONTH:
        inner = _month_starts(since, until, zone)
    else:
        inner = _day_starts(since, until, zone, mondays_only=step is Step.WEEK)
    return list(pairwise([since, *inner, until]))


def _day_starts(since: datetime, until: datetime, zone: ZoneInfo, *, mondays_only: bool) -> list[datetime]:
    """The first instants of the local days (or of the Mondays) of ``zone`` strictly inside (since, until)."""
    day = since.astimezone(zone).date()
    starts: list[datetime] = []
    while True:
        day += timedelta(days=1)
        start = start_of_local_day(day, zone)
        if start >= until:
            return starts
        if start > since and (not mondays_only or day.weekday() == 0):
            starts.append(start)


def _month_starts(since: datetime, until: datetime, zone: ZoneInfo) -> list[datetime]:
    """The first instants of the local months of ``zone`` strictly inside (since, until), every month, else
    every 2, 3, 6, 12, 24 ... months (counted from January) so that at most MAX_BUCKETS - 1 are left."""
    local = since.astimezone(zone)
    month = local.year * 12 + local.month - 1  # months since January of year 0
    starts: list[tuple[int, datetime]] = []
    while True:
        month += 1
        start = start_of_local_day(date(month // 12, month % 12 + 1, 1), zone)
        if start >= until:
            break
        if start > since:  # a month whose midnight the clocks went back over starts before ``since``
            starts.append((month, start))
    every, chosen = 1, [start for _, start in starts]
    while len(chosen) >= MAX_BUCKETS:
        every = {1: 2, 2: 3, 3: 6, 6: 12}.get(every, every * 2)
        chosen = [start for month, start in starts if month % every == 0]
    return chosen


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

    async def compliance_over_time(
        self, filters: ReportFilters, zone: ZoneInfo = UTC_ZONE
    ) -> list[CompliancePoint]:
        """Compliance per bucket (``buckets``: months begin at midnight in ``zone``, the reader's)."""
        periods = buckets(filters.since, filters.until, zone)
        reports = await ReportService(self.runtime).compliance_by_period(filters, periods)
        return [CompliancePoint(since=r.since, until=r.until, targets=r.targets) for r in reports]

    async def alerts_now(self, filters: ReportFilters) -> list[LiveAlert]:
        return await alerts_now(self.runtime, filters)

    async def backlog(self, filters: ReportFilters) -> list[BacklogCell]:
        """Open tickets per queue (by name) and priority, from the trigger-kept counters: exact, never a scan
        of the tickets."""
        async with self.runtime.sessions() as session:
            counts = await open_backlog(session, filters)
            queue_ids = {queue for queue, _, _ in counts if queue is not None}
            names = dict(
                (await session.execute(select(Group.id, Group.name).where(Group.id.in_(queue_ids))))
                .tuples()
                .all()
                if queue_ids
                else []
            )
        cells: Counter[tuple[str, str]] = Counter()
        for queue, priority, n in counts:
            cells[(names.get(queue, "—") if queue is not None else "—", priority)] += n
        return [
            BacklogCell(queue=queue, priority=priority, count=n)
            for (queue, priority), n in sorted(cells.items())
        ]

    async def queue_choices(self) -> list[QueueChoice]:
        """The queues the dashboard can be filtered by (names only: no members loaded)."""
        async with self.runtime.sessions() as session:
            rows = await session.execute(select(Group.id, Group.name).order_by(Group.name))
            return [QueueChoice(id=int(queue_id), name=name) for queue_id, name in rows]

    async def time_distribution(self, filters: ReportFilters) -> Distribution:
        """Wall-clock hours to the first response and to resolution of tickets opened in the period (a sample
        of at most SAMPLE_LIMIT, the newest), counted per bar by the database."""
        sample = (
            scoped(
                select(Ticket.created_at, Ticket.first_responded_at, Ticket.resolved_at).where(
                    Ticket.created_at >= filters.since, Ticket.created_at < filters.until
                ),
                Ticket,
                filters,
            )
            .order_by(Ticket.created_at.desc())
            .limit(SAMPLE_LIMIT)
            .subquery()
        )
        dialect = self.runtime.engine.dialect.name
        first_bar = _bar(sample.c.first_responded_at, sample.c.created_at, dialect)
        resolution_bar = _bar(sample.c.resolved_at, sample.c.created_at, dialect)
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
        """Ratings given (or last changed) in the period, per score: whole days and hours from the
        trigger-kept counters, the minutes around them from the ratings (tickets joined only to filter)."""
        period = [(filters.since, filters.until)]
        counts: Counter[int] = Counter()
        async with self.runtime.sessions() as session:
            totals, leftovers = await counted(
                session, "report_rating_count", "score", ("ratings",), filters, period
            )
            for (_, score), (n,) in totals.items():
                counts[int(score)] += int(n)
            if leftovers:
                rating = SatisfactionRating
                query = (
                    select(rating.score, func.count())
                    .where(within(rating.updated_at, leftovers))
                    .group_by(rating.score)
                )
                if filters.dimensions():
                    query = scoped(query.join(Ticket, Ticket.id == rating.ticket_id), Ticket, filters)
                for score, n in await session.execute(query):
                    counts[int(score)] += int(n)
        total = sum(counts.values())
        average = sum(s * n for s, n in counts.items()) / total if total else None
        return SatisfactionSummary(
            count=total, average=average, by_score={s: counts.get(s, 0) for s in SCORES}
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


def _bar(later: Any, earlier: Any, dialect: str) -> Any:
    """The bar (``bar_index``) of the hours from ``earlier`` to ``later``, in SQL; null stays null."""
    if dialect == "postgresql":
        # Instants against instants plus an interval: no per-row numeric arithmetic (EXTRACT(epoch ...)
        # returns numeric), which took most of the query's time over 20,000 tickets.
        within = [later <= earlier + literal_column(f"interval '{bound} hours'") for bound in HOUR_BOUNDS]
    else:
        hours = (func.julianday(later) - func.julianday(earlier)) * 24
        within = [hours <= bound for bound in HOUR_BOUNDS]
    return case(
        (later.is_(None), None),
        *((inside, index) for index, inside in enumerate(within)),
        else_=len(HOUR_BOUNDS),
    )
