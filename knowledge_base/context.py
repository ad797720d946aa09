"""A minimal ``AppContext`` over a database URL, for the CLI and the benchmark (no Redis, no job queue)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from helpdesk.core.clock import Clock, SystemClock
from helpdesk.core.db import Base, BigId, create_engine, create_session_factory
from helpdesk.core.queue import JobQueue
from helpdesk.core.ratelimit import MemoryRateLimiter, RateLimiter
from helpdesk.core.settings import Settings

REFERENCED_TABLES = ("staff_user", "ticket")


class _NoQueue:
    async def enqueue(
        self, job: str, *args: Any, job_id: str | None = None, defer_seconds: float | None = None
    ) -> None:
        raise RuntimeError(f"no job queue in this command (tried to queue {job!r})")

    async def close(self) -> None:
        return None


@dataclass
class CommandContext:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock = field(default_factory=SystemClock)
    queue: JobQueue = field(default_factory=_NoQueue)
    rate_limiter: RateLimiter = field(init=False)
    extras: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rate_limiter = MemoryRateLimiter(self.clock)

    async def after_commit(self) -> None:
        return None


def _declare_referenced_tables() -> None:
    # Our tables point at helpdesk's staff_user and ticket by name. Outside the app (whose
    # ``helpdesk.models`` declares every table) the ORM still needs those names to order its writes:
    # a key-only stand-in is enough, and nothing here reads or writes them through it.
    for name in REFERENCED_TABLES:
        if name not in Base.metadata.tables:
            Table(name, Base.metadata, Column("id", BigId, primary_key=True))


@asynccontextmanager
async def command_context(settings: Settings) -> AsyncIterator[CommandContext]:
    """A context on ``settings.database_url``; the engine is disposed on exit."""
    _declare_referenced_tables()
    engine = create_engine(settings.database_url)
    try:
        yield CommandContext(settings=settings, sessions=create_session_factory(engine))
    finally:
        await engine.dispose()
