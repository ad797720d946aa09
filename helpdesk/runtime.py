"""Everything a request or a job needs at run time, built once per process from settings."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from litestar.di import NamedDependency
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from helpdesk.core.clock import Clock, SystemClock
from helpdesk.core.db import create_engine, create_session_factory, single_write, transaction
from helpdesk.core.queue import ArqJobQueue, InProcessJobQueue, JobQueue
from helpdesk.core.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from helpdesk.core.relay_marks import DELAY_SECONDS, RelayMarks
from helpdesk.core.settings import Settings
from helpdesk.tickets.storage import AttachmentStorage, storage_for

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    storage: AttachmentStorage
    rate_limiter: RateLimiter
    queue: JobQueue = field(init=False)
    relay_marks: RelayMarks = field(init=False)
    redis: Redis | None = None
    # Domain services may keep process-wide helpers here (a search index, a mailer).
    extras: dict[str, Any] = field(default_factory=dict)

    @asynccontextmanager
    async def transaction(self, *, one_write: bool = False) -> AsyncIterator[AsyncSession]:
        """A transaction whose outbox rows are queued as soon as it has committed (and marked relayed a moment
        later with other requests', ``RelayMarks``): one checkout per request, no sweep of other requests'
        rows (``after_commit``).

        Like ``after_commit``, a failure to queue does not fail the caller: the relay cron picks the rows up.
        ``one_write``: the caller reads, then writes everything with one statement; on PostgreSQL the session
        then runs without BEGIN and COMMIT (``helpdesk.core.db.single_write``), and code that finds it must
        write more raises ``NeedsTransaction`` for the caller to start over with ``one_write=False``.
        """
        from helpdesk.core.outbox import added_events, relay_committed

        async with self.engine.connect() as connection:
            # SQLite: take the write lock at BEGIN, as helpdesk.core.db.transaction does.
            await connection.execution_options(sqlite_begin="immediate")
            alone = (
                single_write(connection) if one_write and connection.dialect.name == "postgresql" else None
            )
            async with alone or nullcontext(), transaction(self.sessions, on=connection) as session:
                yield session
        try:
            await relay_committed(self.queue, self.relay_marks, added_events(session))
        except Exception:
            log.exception("outbox relay after commit failed; the relay cron will pick the rows up")

    async def after_commit(self) -> None:
        """Hand committed outbox rows to the queue now rather than at the next relay sweep.

        The data is committed already, so a failure here must not fail the request: the relay cron retries.
        """
        from helpdesk.core.outbox import relay_outbox

        try:
            await relay_outbox(self.sessions, self.queue, self.clock)
        except Exception:
            log.exception("outbox relay after commit failed; the relay cron will pick the rows up")


async def start_runtime(
    settings: Settings, *, clock: Clock | None = None, in_process_jobs: bool | None = None
) -> Runtime:
    """Connect to the database (and Redis when configured) and choose the job queue.

    ``in_process_jobs`` forces the in-process queue even with Redis (used by tests of the embedded mode).
    """
    from helpdesk.worker import job_functions

    clock = clock or SystemClock()
    engine = create_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
    )
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    runtime = Runtime(
        settings=settings,
        engine=engine,
        sessions=create_session_factory(engine),
        clock=clock,
        storage=storage_for(settings.attachment_storage, settings.attachment_dir),
        rate_limiter=RedisRateLimiter(redis, clock) if redis is not None else MemoryRateLimiter(clock),
        redis=redis,
    )
    use_arq = settings.redis_url is not None and not in_process_jobs
    runtime.relay_marks = RelayMarks(engine, clock, delay=DELAY_SECONDS if use_arq else 0)
    if use_arq:
        assert settings.redis_url is not None
        runtime.queue = await ArqJobQueue.connect(settings.redis_url)
    else:
        runtime.queue = InProcessJobQueue(job_functions(), {"runtime": runtime})
    from helpdesk.field.auto_orders import watch_order_tags

    watch_order_tags(runtime)
    return runtime


async def stop_runtime(runtime: Runtime) -> None:
    await runtime.relay_marks.close()
    await runtime.queue.close()
    if runtime.redis is not None:
        await runtime.redis.aclose()
    await runtime.engine.dispose()


# How controllers ask Litestar for the runtime (``app.state.runtime``).
RuntimeDep = NamedDependency[Runtime]
