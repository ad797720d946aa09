"""The one place that knows about the job queue.

Jobs are plain ``async def job(ctx, *args)`` functions (arq's calling convention). With Redis configured they go
through arq to separate worker processes; without it the same functions run as tasks in this process, retried
on ``Retry`` like arq would, so the embedded default behaves the same. Swapping arq means changing this module.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.worker import Retry

log = logging.getLogger(__name__)

JobFunction = Callable[..., Awaitable[Any]]

__all__ = ["ArqJobQueue", "InProcessJobQueue", "JobFunction", "JobQueue", "Retry"]


class JobQueue(Protocol):
    async def enqueue(
        self, job: str, *args: Any, job_id: str | None = None, defer_seconds: float | None = None
    ) -> None:
        """Queue ``job``; a second enqueue with the same ``job_id`` while the first is known is ignored."""

    async def close(self) -> None: ...


class ArqJobQueue:
    def __init__(self, pool: ArqRedis) -> None:
        self._pool = pool

    @classmethod
    async def connect(cls, redis_url: str) -> ArqJobQueue:
        return cls(await create_pool(RedisSettings.from_dsn(redis_url)))

    async def enqueue(
        self, job: str, *args: Any, job_id: str | None = None, defer_seconds: float | None = None
    ) -> None:
        await self._pool.enqueue_job(job, *args, _job_id=job_id, _defer_by=defer_seconds)

    async def close(self) -> None:
        await self._pool.aclose()


class InProcessJobQueue:
    """Runs jobs as asyncio tasks of this process; ``drain()`` waits for everything queued so far."""

    def __init__(
        self,
        functions: Mapping[str, JobFunction],
        ctx: dict[str, Any],
        *,
        max_tries: int = 5,
        concurrency: int = 8,
    ) -> None:
        self._functions = dict(functions)
        # Like arq's max_jobs: a burst of a thousand jobs must not take every database connection at once.
        self._slots = asyncio.Semaphore(concurrency)
        self._ctx = ctx
        self._max_tries = max_tries
        self._tasks: set[asyncio.Task[None]] = set()
        self._active_ids: set[str] = set()

    async def enqueue(
        self, job: str, *args: Any, job_id: str | None = None, defer_seconds: float | None = None
    ) -> None:
        if job not in self._functions:
            raise LookupError(f"unknown job {job!r}")
        if job_id is not None:
            if job_id in self._active_ids:
                return
            self._active_ids.add(job_id)
        task = asyncio.create_task(self._run(job, args, job_id, defer_seconds or 0.0))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, job: str, args: tuple[Any, ...], job_id: str | None, delay: float) -> None:
        function = self._functions[job]
        try:
            for attempt in range(1, self._max_tries + 1):
                if delay:
                    await asyncio.sleep(delay)
                ctx = {**self._ctx, "job_try": attempt, "job_id": job_id}
                try:
                    async with self._slots:
                        await function(ctx, *args)
                    return
                except Retry as retry:
                    delay = _retry_delay(retry)
                    log.info("job %s retry %d in %.1fs", job, attempt, delay)
                except Exception:
                    log.exception("job %s failed", job)
                    return
            log.error("job %s gave up after %d tries", job, self._max_tries)
        finally:
            if job_id is not None:
                self._active_ids.discard(job_id)

    async def drain(self, seconds: float = 30.0) -> None:
        """Wait until no job is running or waiting, including jobs that the jobs themselves queue."""
        async with asyncio.timeout(seconds):
            while self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)


def _retry_delay(retry: Retry) -> float:
    defer = retry.defer_score
    return max(0.0, defer / 1000) if defer else 1.0
