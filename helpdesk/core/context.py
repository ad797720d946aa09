"""What domain services need from the running process, as a protocol, so ``sla``, ``knowledge_base`` and
``dispatch`` depend on ``helpdesk.core`` only (``helpdesk.runtime.Runtime`` implements it)."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from helpdesk.core.clock import Clock
from helpdesk.core.queue import JobQueue
from helpdesk.core.ratelimit import RateLimiter
from helpdesk.core.settings import Settings


@runtime_checkable
class AppContext(Protocol):
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    queue: JobQueue
    rate_limiter: RateLimiter
    extras: dict[str, Any]

    async def after_commit(self) -> None: ...


# Controllers of the top-level domains ask for the context under the name ``runtime``.
ContextDep = NamedDependency[AppContext]
