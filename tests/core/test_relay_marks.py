"""Outbox rows whose jobs a request queued are marked relayed a moment later, together with other requests'
rows, in one statement; a mark that cannot be written leaves the row for the relay cron."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine
from testing_support import RecordingQueue

from helpdesk.core.clock import FixedClock
from helpdesk.core.db import transaction
from helpdesk.core.outbox import OutboxEvent, add_outbox_job, relay_outbox
from helpdesk.core.relay_marks import RelayMarks
from helpdesk.runtime import Runtime

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


async def _outbox_rows(runtime: Runtime, count: int) -> list[int]:
    async with transaction(runtime.sessions) as session:
        events = [add_outbox_job(session, NOW, "suggest_for_ticket_job", n) for n in range(count)]
        await session.flush()
        return [event.id for event in events]


async def _unmarked(runtime: Runtime) -> list[int]:
    async with runtime.sessions() as session:
        return list(await session.scalars(select(OutboxEvent.id).where(OutboxEvent.relayed_at.is_(None))))


async def test_marks_are_written_a_moment_after_they_were_added(runtime: Runtime) -> None:
    ids = await _outbox_rows(runtime, 3)
    marks = RelayMarks(runtime.engine, FixedClock(NOW), delay=0.01)
    await marks.add(ids[:2])
    await marks.add(ids[2:])
    await asyncio.sleep(0.5)
    assert marks.pending == 0
    assert await _unmarked(runtime) == []


async def test_closing_writes_the_marks_still_waiting(runtime: Runtime) -> None:
    ids = await _outbox_rows(runtime, 2)
    marks = RelayMarks(runtime.engine, FixedClock(NOW), delay=3600)
    await marks.add(ids)
    assert await _unmarked(runtime) == ids
    await marks.close()
    assert await _unmarked(runtime) == []


async def test_a_mark_that_cannot_be_written_leaves_the_row_to_the_relay_cron(runtime: Runtime) -> None:
    ids = await _outbox_rows(runtime, 1)
    unreachable = create_async_engine("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere")
    marks = RelayMarks(unreachable, FixedClock(NOW), delay=3600)
    await marks.add(ids)
    await marks.flush()  # logs, does not raise
    await unreachable.dispose()
    assert await _unmarked(runtime) == ids
    queue = RecordingQueue()
    assert await relay_outbox(runtime.sessions, queue, FixedClock(NOW)) == 1
    assert [job.job_id for job in queue.jobs] == [f"outbox-{ids[0]}"]


async def test_with_no_delay_marks_are_written_at_once(runtime: Runtime) -> None:
    ids = await _outbox_rows(runtime, 2)
    marks = RelayMarks(runtime.engine, FixedClock(NOW), delay=0)
    await marks.add(ids)
    assert await _unmarked(runtime) == []
