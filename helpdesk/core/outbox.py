"""Transactional outbox: side effects are written as rows with the data they talk about, queued after commit.

A service adds an ``OutboxEvent`` in its transaction; once committed, ``relay_outbox`` hands pending rows to the
job queue (the ``relay_outbox`` cron catches anything a crash left behind). Jobs take ids only and are
idempotent, so a row relayed twice changes nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.core.clock import Clock
from helpdesk.core.db import Base, IntPK, transaction
from helpdesk.core.queue import JobQueue

log = logging.getLogger(__name__)


class OutboxEvent(Base):
    __tablename__ = "outbox_event"

    id: Mapped[IntPK]
    job: Mapped[str] = mapped_column(String(100))
    args: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    relayed_at: Mapped[datetime | None] = mapped_column(index=True)


def add_outbox_job(session: AsyncSession, now: datetime, job: str, *args: Any) -> None:
    """Record that ``job(*args)`` must run once this transaction commits."""
    session.add(OutboxEvent(job=job, args=list(args), created_at=now))


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
