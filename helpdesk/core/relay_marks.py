"""Outbox rows whose jobs a request has queued, marked relayed a moment later in one statement with those of
every other request of that moment, instead of one UPDATE (one round trip) per request.

Only with arq, whose job ids make a job queued twice run once: meanwhile another process's relay sweep may
queue such a row again. In-process jobs (the embedded default, one process) are marked at once (``delay=0``).

A mark that never lands (the process stops hard, the database is away) only makes the relay cron queue that
job again, which is harmless: jobs are idempotent and their ids (``outbox-<id>``) repeat, so the queue skips
a job it still knows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from helpdesk.core.clock import Clock
from helpdesk.core.db import table_of

log = logging.getLogger(__name__)

# How long marks wait for others to join them; far below the relay cron's minute.
DELAY_SECONDS = 0.05


class RelayMarks:
    """Collects relayed outbox ids and writes them with one UPDATE per ``delay`` seconds."""

    def __init__(self, engine: AsyncEngine, clock: Clock, *, delay: float = DELAY_SECONDS) -> None:
        self._engine = engine
        self._clock = clock
        self.delay = delay
        self._pending: list[int] = []
        self._writer: asyncio.Task[None] | None = None

    async def add(self, ids: Iterable[int]) -> None:
        """Mark these rows relayed soon (within ``delay`` seconds, or at :meth:`close`); a ``delay`` of 0
        writes them now."""
        self._pending.extend(ids)
        if self.delay <= 0:
            await self.flush()
        elif self._pending and (self._writer is None or self._writer.done()):
            self._writer = asyncio.get_running_loop().create_task(self._write_later())

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def flush(self) -> None:
        """Write every mark collected so far (a failure is logged: the relay cron covers those rows)."""
        from helpdesk.core.outbox import OutboxEvent

        table = table_of(OutboxEvent)
        while self._pending:
            ids, self._pending = self._pending, []
            try:
                async with self._engine.connect() as connection:
                    if connection.dialect.name == "postgresql":
                        # One statement needs no BEGIN and COMMIT around it.
                        await connection.execution_options(isolation_level="AUTOCOMMIT")
                    await connection.execute(
                        update(table)
                        .where(table.c.id.in_(ids), table.c.relayed_at.is_(None))
                        .values(relayed_at=self._clock.now())
                    )
                    await connection.commit()
            except Exception:
                log.warning(
                    "marking %d outbox rows relayed failed; the relay cron queues them again", len(ids)
                )
                return

    async def close(self) -> None:
        """Stop waiting and write what is pending (at shutdown)."""
        if self._writer is not None and not self._writer.done():
            self._writer.cancel()
        await self.flush()

    async def _write_later(self) -> None:
        await asyncio.sleep(self.delay)
        await self.flush()
