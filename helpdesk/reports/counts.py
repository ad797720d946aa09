"""Reading, folding and recounting the trigger-kept counters of ``helpdesk.reports.models``.

A period of the compliance or satisfaction figures is cut into whole UTC days, whole hours at its ends, and the
minutes before the first and after the last whole hour (``spans``); the days and hours come from the counters,
the minutes from the clocks or ratings themselves, so any period is exact and reads a few thousand rows at most.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    bindparam,
    case,
    delete,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.core.db import UTCDateTime
from helpdesk.feedback.models import SatisfactionRating
from helpdesk.reports.models import DAY, HOUR, BacklogCount, FinishedClockCount, RatingCount
from helpdesk.reports.schemas import ReportFilters
from helpdesk.runtime import Runtime
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.rules import OPEN_STATUSES
from sla.models import TargetStateRow
from sla.targets import TargetState

ONE_HOUR, ONE_DAY = timedelta(hours=1), timedelta(days=1)
Range = tuple[datetime, datetime]
# Per (period index, target): met, clocks, sum of margins (minutes).
Totals = dict[tuple[int, str], tuple[int, int, float]]


def _floor(instant: datetime, step: timedelta) -> datetime:
    instant = instant.astimezone(UTC)
    if step == ONE_DAY:
        return instant.replace(hour=0, minute=0, second=0, microsecond=0)
    return instant.replace(minute=0, second=0, microsecond=0)


def _ceil(instant: datetime, step: timedelta) -> datetime:
    floor = _floor(instant, step)
    return floor if floor == instant else floor + step


def spans(since: datetime, until: datetime) -> tuple[list[Range], list[Range], list[Range]]:
    """[since, until) as (day ranges, hour ranges, leftover ranges): days and hours are whole UTC ones (their
    start instants, half-open), the leftovers the minutes at either end that fill no whole hour."""
    hours_from, hours_to = _ceil(since, ONE_HOUR), _floor(until, ONE_HOUR)
    if hours_from >= hours_to:
        return [], [], [(since, until)]
    leftovers = [r for r in ((since, hours_from), (hours_to, until)) if r[0] < r[1]]
    days_from, days_to = _ceil(hours_from, ONE_DAY), _floor(hours_to, ONE_DAY)
    if days_from >= days_to:
        return [], [(hours_from, hours_to)], leftovers
    hours = [r for r in ((hours_from, days_from), (days_to, hours_to)) if r[0] < r[1]]
    return [(days_from, days_to)], hours, leftovers


def period_index(instant: Any, periods: Sequence[Range]) -> Any:
    ends = [end for _, end in periods[:-1]]
    if not ends:
        return literal(0, Integer)
    return case(*((instant < end, index) for index, end in enumerate(ends)), else_=len(ends))


def within(column: Any, ranges: Iterable[Range]) -> ColumnElement[bool]:
    return or_(false(), *(and_(column >= start, column < end) for start, end in ranges))


def narrowing(columns: Any, filters: ReportFilters) -> list[Any]:
    """The conditions of the filters' queue, organisation and priority; ``columns`` has those columns as
    attributes (a ticket or counter model)."""
    return [getattr(columns, name) == value for name, value in filters.dimensions().items()]


def scoped(query: Any, columns: Any, filters: ReportFilters) -> Any:
    """``query`` narrowed to the filters' queue, organisation and priority (see :func:`narrowing`)."""
    conditions = narrowing(columns, filters)
    return query.where(*conditions) if conditions else query


async def counted(
    session: AsyncSession,
    table: str,
    group: str,
    sums: tuple[str, ...],
    filters: ReportFilters,
    periods: Sequence[Range],
) -> tuple[dict[tuple[int, Any], list[Any]], list[Range]]:
    """Sums of ``sums`` per (period index, ``group``) of counter ``table`` (report_sla_finish_count or
    report_rating_count) over the whole days and hours of ``periods``, and the leftover ranges (merged) the
    caller must count from the rows themselves. Not for an assignee filter (not a counter dimension)."""
    leftovers: list[Range] = []
    pieces: list[str] = []
    params: list[Any] = []
    chosen = filters.dimensions()
    dims = "".join(f" AND {column} = :{column}" for column in chosen)
    summed = ", ".join(f"sum({column})" for column in sums)
    for index, (since, until) in enumerate(periods):
        days, hours, period_leftovers = spans(since, until)
        leftovers += period_leftovers
        for span, ranges in ((DAY, days), (HOUR, hours)):
            for start, end in ranges:
                # One range scan per day or hour range, summed by itself: PostgreSQL reads each from the
                # covering index alone. Text, because building dozens of Core selects per request cost more
                # CPU than the query. Only integers and this module's constants go into the text.
                n = len(pieces)
                pieces.append(
                    f"SELECT {index} AS period, {group}, {summed} FROM {table} "  # noqa: S608
                    f"WHERE span = '{span}' AND period_start >= :start_{n} AND period_start < :end_{n}{dims} "
                    f"GROUP BY {group}"
                )
                params += [
                    bindparam(f"start_{n}", start, type_=UTCDateTime()),
                    bindparam(f"end_{n}", end, type_=UTCDateTime()),
                ]
    merged: list[Range] = []
    for start, end in leftovers:  # one period's tail and the next one's head are one range
        if merged and merged[-1][1] == start:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    totals: dict[tuple[int, Any], list[Any]] = {}
    if pieces:
        query = text(" UNION ALL ".join(pieces)).bindparams(*params, **chosen)
        for position, key, *values in await session.execute(query):
            had = totals.setdefault((int(position), key), [0] * len(sums))
            totals[(int(position), key)] = [a + (b or 0) for a, b in zip(had, values, strict=True)]
    return totals, merged


async def counted_finishes(
    session: AsyncSession, filters: ReportFilters, periods: Sequence[Range]
) -> tuple[Totals, list[Range]]:
    """The counters' met, finished and summed margins per (period index, target) of the clocks that finished
    in whole days and hours of ``periods``, and the leftover ranges to count from the clocks."""
    totals, leftovers = await counted(
        session, "report_sla_finish_count", "target", ("met", "clocks", "margin_minutes"), filters, periods
    )
    return {key: (int(m), int(c), float(margin)) for key, (m, c, margin) in totals.items()}, leftovers


def add_totals(into: Totals, more: Totals) -> Totals:
    for key, (met, clocks, margin) in more.items():
        had = into.get(key, (0, 0, 0.0))
        into[key] = (had[0] + met, had[1] + clocks, had[2] + margin)
    return into


async def open_backlog(session: AsyncSession, filters: ReportFilters) -> list[tuple[int | None, str, int]]:
    """(queue id, priority, open tickets) with at least one open ticket; a sum over the counters."""
    counts = BacklogCount
    query = scoped(
        select(counts.queue_id, counts.priority, func.sum(counts.tickets))
        .group_by(counts.queue_id, counts.priority)
        .having(func.sum(counts.tickets) != 0),
        counts,
        filters,
    )
    return [(queue, priority, int(n)) for queue, priority, n in await session.execute(query)]


BACKLOG_KEY = ("queue_id", "organisation_id", "priority")
FINISH_KEY = ("span", "period_start", "target", "queue_id", "organisation_id", "priority")
RATING_KEY = ("span", "period_start", "score", "queue_id", "organisation_id", "priority")
# Per counter table: its key, its summed columns, and the column whose zero means the key counts nothing.
COUNTERS: tuple[
    tuple[type[BacklogCount | FinishedClockCount | RatingCount], tuple[str, ...], tuple[str, ...], str], ...
] = (
    (BacklogCount, BACKLOG_KEY, ("tickets",), "tickets"),
    (FinishedClockCount, FINISH_KEY, ("met", "clocks", "margin_minutes"), "clocks"),
    (RatingCount, RATING_KEY, ("ratings",), "ratings"),
)


# PostgreSQL transaction-level advisory lock held by a fold's transactions and by a recount, so they run one
# after another. Without it a recount's DELETE cannot see a settled row a fold inserts and commits after the
# DELETE started (counted twice), and two folds could each insert a settled row for one new key. SQLite
# serialises writers already.
COUNTERS_LOCK = 0x7265706F72747300  # "reports\0"


async def _lock_counters(session: AsyncSession, dialect: str) -> None:
    """Wait for any other fold or recount of the counters to commit (PostgreSQL; held until this one commits)."""
    if dialect == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(COUNTERS_LOCK)))


async def fold_report_counts(runtime: Runtime) -> int:
    """Fold the triggers' unsettled deltas into one settled row per key (sums unchanged, so figures read at
    any moment are unaffected); returns the number of deltas folded. Safe to run twice or beside a recount:
    each transaction holds the counters' advisory lock, and triggers only add unsettled rows."""
    folded = 0
    for table, key, values, count_column in COUNTERS:
        async with runtime.sessions() as session, session.begin():
            await _lock_counters(session, runtime.engine.dialect.name)
            columns = [getattr(table, c) for c in (*key, *values)]
            deltas = (
                await session.execute(delete(table).where(table.settled == false()).returning(*columns))
            ).all()
            sums: dict[tuple[Any, ...], list[Any]] = {}
            for row in deltas:
                had = sums.setdefault(tuple(row[: len(key)]), [0] * len(values))
                sums[tuple(row[: len(key)])] = [a + b for a, b in zip(had, row[len(key) :], strict=True)]
            for key_values, added in sums.items():
                match = [
                    getattr(table, c).is_not_distinct_from(v) for c, v in zip(key, key_values, strict=True)
                ]
                settled_id = await session.scalar(
                    select(table.id).where(table.settled == true(), *match).limit(1)
                )
                if settled_id is None:
                    fields = dict(zip((*key, *values), (*key_values, *added), strict=True))
                    await session.execute(insert(table).values(**fields, settled=True))
                else:
                    change = {c: getattr(table, c) + v for c, v in zip(values, added, strict=True)}
                    await session.execute(update(table).where(table.id == settled_id).values(change))
            await session.execute(
                delete(table).where(table.settled == true(), getattr(table, count_column) == 0)
            )
            folded += len(deltas)
    return folded


async def recount_report_counts(runtime: Runtime) -> None:
    """Replace the counters with a fresh count of the tickets and clocks (after a bulk load that bypassed the
    triggers). Ticket and clock writers wait until it commits (PostgreSQL: a SHARE lock; SQLite: one writer),
    and so does a fold (the counters' advisory lock, taken first: a fold locks no tickets)."""
    dialect = runtime.engine.dialect.name
    async with runtime.sessions() as session, session.begin():
        await _lock_counters(session, dialect)
        if dialect == "postgresql":
            await session.execute(
                text("LOCK TABLE ticket, ticket_sla_target, satisfaction_rating IN SHARE MODE")
            )
        await session.execute(delete(BacklogCount))
        await session.execute(delete(FinishedClockCount))
        await session.execute(delete(RatingCount))
        await session.execute(
            insert(BacklogCount).from_select(
                [*BACKLOG_KEY, "tickets", "settled"],
                select(Ticket.queue_id, Ticket.organisation_id, Ticket.priority, func.count(), true())
                .where(Ticket.status.in_([str(s) for s in OPEN_STATUSES]))
                .group_by(Ticket.queue_id, Ticket.organisation_id, Ticket.priority),
            )
        )
        clock = TargetStateRow
        finished_at = case(
            (clock.met_at.is_not(None), clock.met_at),
            (clock.state == TargetState.BREACHED, clock.breached_at),
        )
        met = case((and_(clock.met_at.is_not(None), clock.state == TargetState.MET), 1), else_=0)
        clocks = select(
            clock.ticket_id, clock.target, clock.margin_minutes, finished_at.label("at"), met.label("met")
        ).subquery()
        dims = (Ticket.queue_id, Ticket.organisation_id, Ticket.priority)
        for span in (HOUR, DAY):
            start = _truncated(clocks.c.at, span, dialect)
            finishes = (
                select(
                    literal(span),
                    start,
                    clocks.c.target,
                    *dims,
                    func.sum(clocks.c.met),
                    func.count(),
                    func.sum(clocks.c.margin_minutes),
                    true(),
                )
                .join(Ticket, Ticket.id == clocks.c.ticket_id)
                .where(clocks.c.at.is_not(None))
                .group_by(start, clocks.c.target, *dims)
            )
            await session.execute(
                insert(FinishedClockCount).from_select(
                    [*FINISH_KEY, "met", "clocks", "margin_minutes", "settled"], finishes
                )
            )
            rated = _truncated(SatisfactionRating.updated_at, span, dialect)
            ratings = (
                select(literal(span), rated, SatisfactionRating.score, *dims, func.count(), true())
                .join(Ticket, Ticket.id == SatisfactionRating.ticket_id)
                .group_by(rated, SatisfactionRating.score, *dims)
            )
            await session.execute(
                insert(RatingCount).from_select([*RATING_KEY, "ratings", "settled"], ratings)
            )


def _truncated(instant: Any, span: str, dialect: str) -> Any:
    """The start of the hour or UTC day of ``instant``, as the triggers compute it."""
    if dialect == "postgresql":
        return func.date_trunc(span, instant, "UTC")
    # SQLite keeps datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff' text (UTC).
    if span == HOUR:
        return func.substr(instant, 1, 13).op("||")(":00:00.000000")
    return func.substr(instant, 1, 10).op("||")(" 00:00:00.000000")
