"""Queueing many jobs in one step: through arq (one script call to Redis) the jobs land as arq's own
``enqueue_job`` stores them, and a job id already known is skipped; in process they run as ``enqueue`` would."""

from __future__ import annotations

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
