"""The dashboard's counters stay equal to a straight count when PostgreSQL transactions interleave: a clock met
while its ticket moves to another queue, and a recount beside a fold. SQLite serialises writers, so these
interleavings cannot happen there."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from reportrows import counter_rows, insert_desk, insert_ticket
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from helpdesk.reports.counts import fold_report_counts, recount_report_counts
from helpdesk.reports.models import DAY, BacklogCount, FinishedClockCount
from helpdesk.runtime import Runtime
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.rules import OPEN_STATUSES
from sla.models import TargetStateRow
from sla.targets import SlaTarget, TargetState

pytestmark = pytest.mark.integration

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def _postgresql_only(runtime: Runtime) -> None:
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers: transactions cannot interleave")


async def _ticket(runtime: Runtime, queue_id: int, customer: int, n: int, clock: dict[str, Any]) -> int:
    """An open ticket in ``queue_id`` with a first-response clock in ``clock``'s state."""
    async with runtime.sessions() as session, session.begin():
        ticket_id = await insert_ticket(
            session, n, START, status="open", priority="P3", queue_id=queue_id, customer_id=customer
        )
        await session.execute(
            insert(TargetStateRow).values(
                ticket_id=ticket_id,
                target=SlaTarget.FIRST_RESPONSE.value,
                target_minutes=240,
                clock_started_at=START,
                due_at=START + timedelta(hours=4),
                **clock,
            )
        )
    return ticket_id


RUNNING: dict[str, Any] = {"state": TargetState.RUNNING, "margin_minutes": 0.0}
MET: dict[str, Any] = {
    "state": TargetState.MET,
    "met_at": START + timedelta(hours=1),
    "margin_minutes": 180.0,
}


async def _wait_for_lock_waiters(runtime: Runtime, waiters: int, *tasks: asyncio.Task[Any]) -> None:
    """Until ``waiters`` sessions of this database wait for a lock, or ``tasks`` end, or two seconds pass
    (without the locks under test nothing waits, and the counters show what went wrong)."""
    async with runtime.engine.connect() as watcher:
        for _ in range(100):
            waiting = await watcher.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
            await watcher.rollback()
            if waiting >= waiters or all(task.done() for task in tasks):
                return
            await asyncio.sleep(0.02)


async def _finished_clocks_by_queue(runtime: Runtime) -> tuple[dict[int | None, int], dict[int | None, int]]:
    """Finished clocks per queue: by the day counters, and straight from the clocks."""
    async with runtime.sessions() as session:
        counted = {
            queue: int(n)
            for queue, n in await session.execute(
                select(FinishedClockCount.queue_id, func.sum(FinishedClockCount.clocks))
                .where(FinishedClockCount.span == DAY)
                .group_by(FinishedClockCount.queue_id)
            )
        }
        straight = {
            queue: int(n)
            for queue, n in await session.execute(
                select(Ticket.queue_id, func.count())
                .join(TargetStateRow, TargetStateRow.ticket_id == Ticket.id)
                .where(TargetStateRow.met_at.is_not(None))
                .group_by(Ticket.queue_id)
            )
        }
    return counted, straight


async def test_a_clock_met_while_its_ticket_moves_queue_is_counted_under_the_queue_it_moved_to(
    runtime: Runtime,
) -> None:
    _postgresql_only(runtime)
    desk = await insert_desk(runtime, START, queues=2)
    first, second = desk.queues
    ticket_id = await _ticket(runtime, first, desk.customer, 1, RUNNING)
    meeting: AsyncConnection
    async with runtime.engine.connect() as meeting, runtime.engine.connect() as moving:
        await meeting.execute(
            update(TargetStateRow).where(TargetStateRow.ticket_id == ticket_id).values(**MET)
        )

        async def move() -> None:
            await moving.execute(update(Ticket).where(Ticket.id == ticket_id).values(queue_id=second))
            await moving.commit()

        moved = asyncio.create_task(move())
        await _wait_for_lock_waiters(runtime, 1, moved)
        await meeting.commit()
        await moved
    counted, straight = await _finished_clocks_by_queue(runtime)
    assert straight == {second: 1}
    assert {queue: n for queue, n in counted.items() if n} == straight


async def _backlog_sums(runtime: Runtime) -> tuple[Counter[Any], Counter[Any]]:
    """Open tickets per (queue, priority): by the counters, and straight from the tickets."""
    async with runtime.sessions() as session:
        counted: Counter[Any] = Counter()
        for queue, priority, n in await session.execute(
            select(BacklogCount.queue_id, BacklogCount.priority, BacklogCount.tickets)
        ):
            counted[(queue, priority)] += n
        straight: Counter[Any] = Counter()
        for queue, priority, n in await session.execute(
            select(Ticket.queue_id, Ticket.priority, func.count())
            .where(Ticket.status.in_([str(s) for s in OPEN_STATUSES]))
            .group_by(Ticket.queue_id, Ticket.priority)
        ):
            straight[(queue, priority)] = n
    return +counted, straight


async def test_a_recount_beside_a_fold_leaves_the_counters_equal_to_a_straight_count(
    runtime: Runtime,
) -> None:
    _postgresql_only(runtime)
    desk = await insert_desk(runtime, START, queues=3)
    for n in range(12):
        await _ticket(runtime, desk.queues[n % 3], desk.customer, n, MET if n % 2 else RUNNING)
    # A third transaction holds one new backlog delta, so the fold stops inside its first transaction with
    # the recount started beside it; then both go on.
    async with runtime.engine.connect() as holder:
        await holder.execute(
            select(BacklogCount.id).where(BacklogCount.settled.is_(False)).limit(1).with_for_update()
        )
        fold = asyncio.create_task(fold_report_counts(runtime))
        await _wait_for_lock_waiters(runtime, 1, fold)
        recount = asyncio.create_task(recount_report_counts(runtime))
        await _wait_for_lock_waiters(runtime, 2, fold, recount)
        await holder.rollback()
        await asyncio.gather(fold, recount)
    counted, straight = await _backlog_sums(runtime)
    assert counted == straight
    clocks, straight_clocks = await _finished_clocks_by_queue(runtime)
    assert clocks == straight_clocks
    keys = Counter(await counter_rows(runtime, BacklogCount))
    assert {key[-1] for key in keys} == {True}
    assert set(keys.values()) == {1}
