"""The dashboard's trigger-kept counters give the figures a straightforward count of the tickets, SLA clocks and
satisfaction ratings gives, whatever happens to them: new tickets, clocks and ratings, changed status, queue,
organisation or priority, clocks met late, ratings changed, deleted tickets; before and after folding, and after
a recount."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from reportrows import COUNTER_KEYS, Desk, counter_rows, insert_desk, insert_ticket
from sqlalchemy import delete, func, insert, select, update

from helpdesk.feedback.models import SatisfactionRating
from helpdesk.reports.counts import fold_report_counts, open_backlog, recount_report_counts, spans
from helpdesk.reports.dashboard import DashboardQueries, buckets
from helpdesk.reports.schemas import ReportFilters
from helpdesk.reports.service import ReportService
from helpdesk.runtime import Runtime
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.rules import OPEN_STATUSES, Priority, TicketStatus
from sla.models import TargetStateRow
from sla.targets import SlaTarget, TargetState

pytestmark = pytest.mark.integration

START = datetime(2027, 2, 20, 0, 0, tzinfo=UTC)
NOW = datetime(2027, 3, 2, 13, 27, 41, tzinfo=UTC)


def _instant(rng: random.Random) -> datetime:
    return START + timedelta(seconds=rng.randrange(int((NOW - START).total_seconds())))


async def _world(runtime: Runtime, rng: random.Random) -> dict[str, list[int]]:
    """Queues, organisations with a customer each, 60 tickets and their clocks."""
    desk = await insert_desk(runtime, START, queues=3, organisations=3)
    tickets = [await _ticket(runtime, rng, desk, n) for n in range(60)]
    for ticket_id in tickets:
        for target in rng.sample(list(SlaTarget), rng.randrange(4)):
            await _clock(runtime, rng, ticket_id, target)
    async with runtime.sessions() as session, session.begin():
        for ticket_id in rng.sample(tickets, 30):
            rated = _instant(rng)
            await session.execute(
                insert(SatisfactionRating).values(
                    ticket_id=ticket_id,
                    customer_id=desk.customer,
                    score=rng.randint(1, 5),
                    created_at=rated,
                    updated_at=rated,
                )
            )
    return {"queues": desk.queues, "organisations": desk.organisations, "tickets": tickets}


async def _ticket(runtime: Runtime, rng: random.Random, desk: Desk, n: int) -> int:
    opened = _instant(rng)
    async with runtime.sessions() as session, session.begin():
        return await insert_ticket(
            session,
            n,
            opened,
            status=rng.choice(list(TicketStatus)),
            priority=rng.choice(list(Priority)),
            queue_id=rng.choice([*desk.queues, None]),
            organisation_id=rng.choice([*desk.organisations, None]),
            customer_id=desk.customer,
        )


def _clock_state(rng: random.Random) -> dict[str, Any]:
    """A clock running, met on time, met late, or breached and never met (times off the hour)."""
    due = _instant(rng)
    kind = rng.choice(["running", "met", "late", "breached"])
    met_at = due - timedelta(minutes=rng.randrange(1, 600)) if kind == "met" else None
    if kind == "late":
        met_at = due + timedelta(minutes=rng.randrange(1, 600))
    return {
        "state": {"running": TargetState.RUNNING, "met": TargetState.MET}.get(kind, TargetState.BREACHED),
        "due_at": due,
        "met_at": met_at,
        "breached_at": due if kind in ("late", "breached") else None,
        "margin_minutes": float(rng.randrange(-500, 500)) / 4,
    }


async def _clock(runtime: Runtime, rng: random.Random, ticket_id: int, target: SlaTarget) -> None:
    async with runtime.sessions() as session, session.begin():
        await session.execute(
            insert(TargetStateRow).values(
                ticket_id=ticket_id,
                target=target.value,
                target_minutes=240,
                clock_started_at=START,
                **_clock_state(rng),
            )
        )


async def _changes(runtime: Runtime, rng: random.Random, world: dict[str, list[int]]) -> None:
    """What agents, customers and the SLA sweep do: statuses, queues, organisations and priorities change,
    clocks get met (late) or breach, a clock goes, tickets are deleted (their clocks with them)."""
    tickets = world["tickets"]
    async with runtime.sessions() as session, session.begin():
        for ticket_id in rng.sample(tickets, 30):
            change = rng.choice(["status", "queue_id", "organisation_id", "priority", "subject"])
            value: Any = {
                "status": rng.choice(list(TicketStatus)),
                "queue_id": rng.choice([*world["queues"], None]),
                "organisation_id": rng.choice([*world["organisations"], None]),
                "priority": rng.choice(list(Priority)),
                "subject": "Renamed",
            }[change]
            await session.execute(update(Ticket).where(Ticket.id == ticket_id).values({change: value}))
        # Several tickets at once, as a bulk close does.
        await session.execute(
            update(Ticket).where(Ticket.id.in_(rng.sample(tickets, 8))).values(status=TicketStatus.CLOSED)
        )
        clocks = (await session.execute(select(TargetStateRow.ticket_id, TargetStateRow.target))).all()
        for ticket_id, target in rng.sample(clocks, min(20, len(clocks))):
            await session.execute(
                update(TargetStateRow)
                .where(TargetStateRow.ticket_id == ticket_id, TargetStateRow.target == target)
                .values(**_clock_state(rng))
            )
        ticket_id, target = rng.choice(clocks)
        await session.execute(
            delete(TargetStateRow).where(
                TargetStateRow.ticket_id == ticket_id, TargetStateRow.target == target
            )
        )
        rated = list(await session.scalars(select(SatisfactionRating.id)))
        for rating_id in rng.sample(rated, 8):  # a second click changes the score, later
            await session.execute(
                update(SatisfactionRating)
                .where(SatisfactionRating.id == rating_id)
                .values(score=rng.randint(1, 5), updated_at=_instant(rng))
            )
        await session.execute(delete(SatisfactionRating).where(SatisfactionRating.id == rng.choice(rated)))
        gone = rng.sample(tickets, 3)
        await session.execute(delete(Ticket).where(Ticket.id.in_(gone)))
    world["tickets"] = [t for t in tickets if t not in gone]


def _filter_sets(world: dict[str, list[int]]) -> list[dict[str, Any]]:
    return [
        {},
        {"organisation_id": world["organisations"][0]},
        {"queue_id": world["queues"][1]},
        {"priority": "P2", "organisation_id": world["organisations"][2]},
    ]


def _ordered(cells: list[tuple[int | None, str, int]]) -> list[tuple[int | None, str, int]]:
    return sorted(cells, key=lambda c: (c[0] or 0, c[1]))


def _narrowed(query: Any, filters: ReportFilters) -> Any:
    """``query`` (over tickets) narrowed to the filters' queue, organisation and priority."""
    for column, value in (
        (Ticket.queue_id, filters.queue_id),
        (Ticket.organisation_id, filters.organisation_id),
        (Ticket.priority, filters.priority),
    ):
        if value is not None:
            query = query.where(column == value)
    return query


async def _straight_backlog(runtime: Runtime, filters: ReportFilters) -> list[tuple[int | None, str, int]]:
    query = (
        select(Ticket.queue_id, Ticket.priority, func.count())
        .where(Ticket.status.in_([str(s) for s in OPEN_STATUSES]))
        .group_by(Ticket.queue_id, Ticket.priority)
    )
    async with runtime.sessions() as session:
        return _ordered([(q, p, int(n)) for q, p, n in await session.execute(_narrowed(query, filters))])


async def _straight_compliance(
    runtime: Runtime, filters: ReportFilters, periods: list[tuple[datetime, datetime]]
) -> dict[tuple[int, str], tuple[int, int, float]]:
    """Every clock read into Python and placed by hand: met, finished and summed margin per period and target."""
    async with runtime.sessions() as session:
        rows = (
            await session.execute(
                select(TargetStateRow, Ticket.queue_id, Ticket.organisation_id, Ticket.priority).join(
                    Ticket, Ticket.id == TargetStateRow.ticket_id
                )
            )
        ).all()
    totals: dict[tuple[int, str], tuple[int, int, float]] = {}
    for clock, queue_id, organisation_id, priority in rows:
        if any(
            wanted is not None and wanted != actual
            for wanted, actual in (
                (filters.queue_id, queue_id),
                (filters.organisation_id, organisation_id),
                (filters.priority, priority),
            )
        ):
            continue
        if clock.met_at is not None:
            finished, met = clock.met_at, int(clock.state == TargetState.MET)
        elif clock.state == TargetState.BREACHED:
            finished, met = clock.breached_at, 0
        else:
            continue
        for index, (since, until) in enumerate(periods):
            if since <= finished < until:
                had = totals.get((index, clock.target), (0, 0, 0.0))
                totals[(index, clock.target)] = (had[0] + met, had[1] + 1, had[2] + clock.margin_minutes)
    return totals


async def _straight_ratings(runtime: Runtime, filters: ReportFilters) -> dict[int, int]:
    query = (
        select(SatisfactionRating.score, func.count())
        .join(Ticket, Ticket.id == SatisfactionRating.ticket_id)
        .where(SatisfactionRating.updated_at >= filters.since, SatisfactionRating.updated_at < filters.until)
        .group_by(SatisfactionRating.score)
    )
    async with runtime.sessions() as session:
        counts = {int(score): int(n) for score, n in await session.execute(_narrowed(query, filters))}
    return {score: counts.get(score, 0) for score in range(1, 6)}


async def _assert_figures_match(runtime: Runtime, world: dict[str, list[int]]) -> None:
    period_sets = [
        buckets(NOW - timedelta(days=7), NOW + timedelta(seconds=1)),  # days ending off the hour
        buckets(NOW - timedelta(days=10), NOW),
        [(START + timedelta(minutes=17), NOW - timedelta(hours=30, minutes=3))],  # one period, any bounds
        [
            (datetime(2027, 2, 25, 10, tzinfo=UTC), datetime(2027, 2, 25, 10, 40, tzinfo=UTC))
        ],  # inside an hour
    ]
    for chosen in _filter_sets(world):
        for since, until in ((START, NOW), (START + timedelta(hours=30, minutes=7), NOW - timedelta(days=2))):
            rated = ReportFilters(since=since, until=until, **chosen)
            summary = await DashboardQueries(runtime).satisfaction(rated)
            assert summary.by_score == await _straight_ratings(runtime, rated), chosen
        filters = ReportFilters(since=START, until=NOW, **chosen)
        async with runtime.sessions() as session:
            assert _ordered(await open_backlog(session, filters)) == await _straight_backlog(runtime, filters)
        for periods in period_sets:
            reports = await ReportService(runtime).compliance_by_period(filters, periods)
            expected = await _straight_compliance(runtime, filters, periods)
            for index, report in enumerate(reports):
                for figure in report.targets:
                    met, total, margin = expected.get((index, figure.target), (0, 0, 0.0))
                    assert (figure.met, figure.breached) == (met, total - met), (
                        chosen,
                        periods[index],
                        figure,
                    )
                    if total:
                        assert figure.average_margin_minutes == pytest.approx(
                            round(margin / total, 1), abs=0.051
                        )


@pytest.mark.parametrize("seed", [1, 2])
async def test_counters_equal_a_straight_count_through_changes_folds_and_a_recount(
    runtime: Runtime, seed: int
) -> None:
    rng = random.Random(seed)
    world = await _world(runtime, rng)
    await _assert_figures_match(runtime, world)
    await fold_report_counts(runtime)
    await _assert_figures_match(runtime, world)
    await _changes(runtime, rng, world)
    await _assert_figures_match(runtime, world)
    assert await fold_report_counts(runtime) > 0
    await _assert_figures_match(runtime, world)
    await recount_report_counts(runtime)
    await _assert_figures_match(runtime, world)


async def test_folding_leaves_one_settled_row_per_key_and_nothing_unsettled(runtime: Runtime) -> None:
    rng = random.Random(3)
    world = await _world(runtime, rng)
    await _changes(runtime, rng, world)
    await fold_report_counts(runtime)
    tables = [await counter_rows(runtime, counter) for counter in COUNTER_KEYS]
    assert all(row[-1] for rows in tables for row in rows)
    for rows in tables:
        assert max(Counter(row[:-1] for row in rows).values()) == 1
    assert await fold_report_counts(runtime) == 0


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        # Whole days in the middle, whole hours at the ends, the minutes left over.
        (
            "2027-03-01T22:30:00",
            "2027-03-04T02:15:00",
            (
                [("03-02T00", "03-04T00")],
                [("03-01T23", "03-02T00"), ("03-04T00", "03-04T02")],
                [("03-01T22:30", "03-01T23"), ("03-04T02", "03-04T02:15")],
            ),
        ),
        # Within one day: hours and leftovers only.
        (
            "2027-03-01T10:20:00",
            "2027-03-01T13:00:00",
            ([], [("03-01T11", "03-01T13")], [("03-01T10:20", "03-01T11")]),
        ),
        # Within one hour: the whole period is left over.
        ("2027-03-01T10:20:00", "2027-03-01T10:50:00", ([], [], [("03-01T10:20", "03-01T10:50")])),
        # Aligned on days: nothing else.
        ("2027-03-01T00:00:00", "2027-03-03T00:00:00", ([("03-01T00", "03-03T00")], [], [])),
    ],
)
def test_a_period_is_cut_into_whole_days_whole_hours_and_leftover_minutes(
    since: str, until: str, expected: tuple[list[tuple[str, str]], ...]
) -> None:
    def instant(text: str) -> datetime:
        full = f"2027-{text}" if not text.startswith("2027") else text
        if len(full) == len("2027-03-01T22"):
            full += ":00"
        return datetime.fromisoformat(full).replace(tzinfo=UTC)

    got = spans(instant(since), instant(until))
    assert got == tuple([(instant(a), instant(b)) for a, b in part] for part in expected)
