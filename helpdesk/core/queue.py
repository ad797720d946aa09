"""The one place that knows about the job queue.

Jobs are plain ``async def job(ctx, *args)`` functions (arq's calling convention). With Redis configured they go
through arq to separate worker processes; without it the same functions run as tasks in this process, retried
on ``Retry`` like arq would, so the embedded default behaves the same. Swapping arq means changing this module.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.constants import job_key_prefix, result_key_prefix
from arq.jobs import serialize_job
from arq.worker import Retry

log = logging.getLogger(__name__)

JobFunction = Callable[..., Awaitable[Any]]

__all__ = ["ArqJobQueue", "InProcessJobQueue", "JobFunction", "JobQueue", "QueuedJob", "Retry", "enqueue_all"]


@dataclass(frozen=True)
class QueuedJob:
    job: str
    args: tuple[Any, ...] = ()
    job_id: str | None = None
    defer_seconds: float | None = None


class JobQueue(Protocol):
    async def enqueue(
        self, job: str, *args: Any, job_id: str | None = None, defer_seconds: float | None = None
    ) -> None:
        """Queue ``job``; a second enqueue with the same ``job_id`` while the first is known is ignored."""

    async def close(self) -> None: ...


async def enqueue_all(queue: JobQueue, jobs: Sequence[QueuedJob]) -> None:
    """Queue every job as ``enqueue`` does each: in one step where the queue can (arq: one round trip to
    Redis instead of three per job), else one by one."""
    if isinstance(queue, ArqJobQueue | InProcessJobQueue):
        await queue.enqueue_many(jobs)
        return
    for queued in jobs:
        await queue.enqueue(
            queued.job, *queued.args, job_id=queued.job_id, defer_seconds=queued.defer_seconds
        )


# arq's enqueue_job for many jobs at once: each job is skipped while its job or result key exists (arq's rule
# for a repeated job id), else stored with its expiry and added to the queue. KEYS: the queue, then per job its
# job and result keys; ARGV per job: id, serialized job, score (run at, ms), expiry (ms).
_ENQUEUE_MANY = """
local queued = 0
for n = 0, (#KEYS - 1) / 2 - 1 do
  if redis.call('exists', KEYS[2 + 2 * n], KEYS[3 + 2 * n]) == 0 then
    redis.call('psetex', KEYS[2 + 2 * n], ARGV[4 + 4 * n], ARGV[2 + 4 * n])
    redis.call('zadd', KEYS[1], ARGV[3 + 4 * n], ARGV[1 + 4 * n])
    queued = queued + 1
  end
end
return queued
"""


class ArqJobQueue:
    def __init__(self, pool: ArqRedis) -> None:
        self._pool = pool
        # Sent once, then called by its hash (EVALSHA).
        self._enqueue_many_script = pool.register_script(_ENQUEUE_MANY)
        # Callers of enqueue_many waiting for the script call in flight to return (see there).
        self._waiting: list[tuple[Sequence[QueuedJob], asyncio.Future[None]]] = []
        self._sender: asyncio.Task[None] | None = None

    @classmethod
    async def connect(cls, redis_url: str) -> ArqJobQueue:
        return cls(await create_pool(RedisSettings.from_dsn(redis_url)))

    async def enqueue(
        self, job: str, *args: Any, job_id: str | None = None, defer_seconds: float | None = None
    ) -> None:
        await self._pool.enqueue_job(job, *args, _job_id=job_id, _defer_by=defer_seconds)

    async def enqueue_many(self, jobs: Sequence[QueuedJob]) -> None:
        """The jobs as arq's ``enqueue_job`` stores them, in one script call instead of three round trips
        per job (watch, exists, multi/exec). Returns once they are in Redis.

        Callers arriving before the call goes out (on the event loop's next turn) or while one is in flight
        go together, so that many concurrent requests cost a few round trips, not one each."""
        if not jobs:
            return
        done = asyncio.get_running_loop().create_future()
        self._waiting.append((jobs, done))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send_waiting())
        await done

    async def _send_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            try:
                await self._store([job for jobs, _ in batch for job in jobs])
            except Exception as exc:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)

    async def _store(self, jobs: Sequence[QueuedJob]) -> None:
        pool = self._pool
        now_ms = int(time.time() * 1000)
        keys: list[str] = [pool.default_queue_name]
        argv: list[Any] = []
        for queued in jobs:
            job_id = queued.job_id or uuid.uuid4().hex
            defer_ms = int((queued.defer_seconds or 0) * 1000)
            keys += [job_key_prefix + job_id, result_key_prefix + job_id]
            payload = serialize_job(queued.job, queued.args, {}, None, now_ms, serializer=pool.job_serializer)
            argv += [job_id, payload, now_ms + defer_ms, defer_ms + pool.expires_extra_ms]
        await self._enqueue_many_script(keys=keys, args=argv)

    async def close(self) -> None:
        if self._sender is not None:
            await asyncio.gather(self._sender, return_exceptions=True)
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

    async def enqueue_many(self, jobs: Sequence[QueuedJob]) -> None:
        for queued in jobs:
            await self.enqueue(
                queued.job, *queued.args, job_id=queued.job_id, defer_seconds=queued.defer_seconds
            )

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
