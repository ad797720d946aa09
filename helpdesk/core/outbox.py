"""Transactional outbox: side effects are written as rows with the data they talk about, queued after commit.

A service adds an ``OutboxEvent`` in its transaction; once committed, ``relay_outbox`` hands pending rows to the
job queue (the ``relay_outbox`` cron catches anything a crash left behind). Jobs take ids only and are
idempotent, so a row relayed twice changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Table, event, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, Session, mapped_column

from helpdesk.core.clock import Clock
from helpdesk.core.db import Base, IntPK, transaction
from helpdesk.core.queue import JobQueue, QueuedJob, enqueue_all
from helpdesk.core.relay_marks import RelayMarks

log = logging.getLogger(__name__)


class OutboxEvent(Base):
    __tablename__ = "outbox_event"

    id: Mapped[IntPK]
    job: Mapped[str] = mapped_column(String(100))
    args: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    relayed_at: Mapped[datetime | None] = mapped_column(index=True)


# Where a session keeps the outbox rows it added, for :func:`relay_committed` once it has committed.
_ADDED = "outbox_events"


def add_outbox_job(
    session: AsyncSession, now: datetime, job: str, *args: Any, event_id: int | None = None
) -> OutboxEvent:
    """Record that ``job(*args)`` must run once this transaction commits. ``event_id``: an id drawn in advance
    (``helpdesk.core.db.next_ids``), for rows written with ``insert_now``."""
    event = OutboxEvent(job=job, args=list(args), created_at=now)
    if event_id is not None:
        event.id = event_id
    session.add(event)
    session.info.setdefault(_ADDED, []).append(event)
    return event


def added_events(session: AsyncSession) -> list[OutboxEvent]:
    """The outbox rows ``session`` wrote: through :func:`add_outbox_job` or added to it any other way (a
    flush hook's), once each."""
    events: list[OutboxEvent] = session.info.get(_ADDED, [])
    return list({id(event): event for event in events}.values())


@event.listens_for(OutboxEvent, "after_insert")
def _note_flushed(_mapper: Any, _connection: Any, target: OutboxEvent) -> None:
    # Rows the ORM flushed, whoever added them: relay_committed queues them right after the commit too.
    session = Session.object_session(target)
    if session is not None:
        session.info.setdefault(_ADDED, []).append(target)


async def relay_committed(queue: JobQueue, marks: RelayMarks, events: Sequence[OutboxEvent]) -> None:
    """Queue the jobs of these committed outbox rows, in one step, then have them marked relayed.

    The request's own rows only: no claim query and no sweep. The marks are written a moment later together
    with other requests' (``RelayMarks``); in this order a crash in between queues a job twice at worst (the
    ``relay_outbox`` cron finds the row unmarked), which is harmless because jobs are idempotent and their
    ids (``outbox-<id>``) repeat.
    """
    if not events:
        return
    await enqueue_all(queue, [QueuedJob(e.job, tuple(e.args), job_id=f"outbox-{e.id}") for e in events])
    await marks.add(e.id for e in events)


async def relay_outbox(
    sessions: async_sessionmaker[AsyncSession], queue: JobQueue, clock: Clock, *, batch: int = 500
) -> int:
    """Queue every committed, not yet relayed outbox row; returns how many were relayed.

    Each batch is claimed and marked in one statement (``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP
    LOCKED) RETURNING``) and queued before that transaction commits: a crash in between relays the rows again
    later, which is harmless because jobs are idempotent; the other order could lose a job.
    """
    table = OutboxEvent.__table__
    assert isinstance(table, Table)
    relayed = 0
    while True:
        async with transaction(sessions) as session:
            pending = (
                select(table.c.id)
                .where(table.c.relayed_at.is_(None))
                .order_by(table.c.id)
                .limit(batch)
                .with_for_update(skip_locked=True)
                .scalar_subquery()
            )
            rows = (
                await session.execute(
                    update(table)
                    .where(table.c.id.in_(pending))
                    .values(relayed_at=clock.now())
                    .returning(table.c.id, table.c.job, table.c.args)
                )
            ).all()
            for row_id, job, args in sorted(rows):
                try:
                    await queue.enqueue(job, *args, job_id=f"outbox-{row_id}")
                except LookupError:
                    # A job this process does not know (a newer API than this worker): one bad row must not
                    # hold up the rest. Anything else (Redis down) rolls the batch back for a later relay.
                    log.error("outbox row %s names unknown job %r; not relayed", row_id, job)
        relayed += len(rows)
        if len(rows) < batch:
            return relayed
