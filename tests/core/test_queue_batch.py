"""Queueing many jobs in one step: through arq (one script call to Redis) the jobs land as arq's own
``enqueue_job`` stores them, and a job id already known is skipped; callers arriving while a call is in flight
go together in the next; in process they run as ``enqueue`` would."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from arq import create_pool
from arq.connections import RedisSettings

from helpdesk.core.queue import ArqJobQueue, InProcessJobQueue, QueuedJob


async def test_jobs_queued_together_through_arq_are_stored_as_arq_stores_them(redis_url: str) -> None:
    queue_name = f"arq:test:{secrets.token_hex(4)}"
    pool = await create_pool(RedisSettings.from_dsn(redis_url), default_queue_name=queue_name)
    ids = [f"test-{secrets.token_hex(4)}" for _ in range(2)]
    try:
        queue = ArqJobQueue(pool)
        await queue.enqueue_many(
            [QueuedJob("send_mail_job", (7,), ids[0]), QueuedJob("suggest_job", (8,), ids[1])]
        )
        # Again, as the relay cron might: a known job id is skipped, a new one is queued.
        await queue.enqueue_many([QueuedJob("send_mail_job", (7,), ids[0]), QueuedJob("other_job", (), None)])
        queued = await pool.queued_jobs(queue_name=queue_name)
        assert sorted((job.function, job.args) for job in queued) == [
            ("other_job", ()),
            ("send_mail_job", (7,)),
            ("suggest_job", (8,)),
        ]
        assert {job.job_id for job in queued} >= set(ids)
    finally:
        await pool.delete(queue_name, *(f"arq:job:{job_id}" for job_id in ids))
        await pool.aclose()


async def test_jobs_queued_together_in_process_run_like_jobs_queued_one_by_one() -> None:
    runs: list[Any] = []

    async def record(ctx: dict[str, Any], value: int) -> None:
        runs.append(value)

    queue = InProcessJobQueue({"record": record}, {})
    await queue.enqueue_many([QueuedJob("record", (1,), "a"), QueuedJob("record", (2,), "b")])
    await queue.drain()
    assert sorted(runs) == [1, 2]


async def test_callers_queueing_at_once_through_arq_share_script_calls(redis_url: str) -> None:
    queue_name = f"arq:test:{secrets.token_hex(4)}"
    pool = await create_pool(RedisSettings.from_dsn(redis_url), default_queue_name=queue_name)
    ids = [f"test-{secrets.token_hex(4)}" for _ in range(20)]
    queue = ArqJobQueue(pool)
    calls: list[int] = []
    script = queue._enqueue_many_script

    async def counted(*, keys: list[str], args: list[Any]) -> Any:
        calls.append(len(keys))
        return await script(keys=keys, args=args)

    queue._enqueue_many_script = counted  # type: ignore[assignment]
    try:
        await asyncio.gather(
            *(queue.enqueue_many([QueuedJob("send_mail_job", (n,), ids[n])]) for n in range(20))
        )
        queued = await pool.queued_jobs(queue_name=queue_name)
        assert sorted(job.args[0] for job in queued) == list(range(20))
        # All twenty arrived before the call went out.
        assert len(calls) == 1
    finally:
        await pool.delete(queue_name, *(f"arq:job:{job_id}" for job_id in ids))
        await pool.aclose()


async def test_a_failed_script_call_fails_every_caller_that_waited_for_it(redis_url: str) -> None:
    pool = await create_pool(RedisSettings.from_dsn(redis_url))
    queue = ArqJobQueue(pool)

    async def broken(*, keys: list[str], args: list[Any]) -> Any:
        raise ConnectionError("Redis went away")

    queue._enqueue_many_script = broken  # type: ignore[assignment]
    try:
        results = await asyncio.gather(
            *(queue.enqueue_many([QueuedJob("send_mail_job", (n,), None)]) for n in range(3)),
            return_exceptions=True,
        )
        assert [type(result) for result in results] == [ConnectionError] * 3
    finally:
        await pool.aclose()
