"""Mail whose job was lost (Redis flushed, a job given up) is picked up by the worker's requeue crons:
pending inbound mail is processed, unsent outgoing mail is sent, each once, and running a cron twice
changes nothing."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.worker import Worker
from mailkit import inbound, make_mail, outgoing

from helpdesk.channels.email.models import InboundSource
from helpdesk.channels.email.service import MailService
from helpdesk.core.clock import FixedClock
from helpdesk.core.queue import ArqJobQueue
from helpdesk.runtime import Runtime
from helpdesk.worker import WorkerSettings

pytestmark = pytest.mark.integration


class RedisQueue:
    """A queue of its own in the test Redis (nothing left over from other runs is picked up), which a
    runtime enqueues to and real arq workers (``WorkerSettings.functions``) drain."""

    def __init__(self, redis_url: str, pool: ArqRedis, name: str) -> None:
        self.redis_url, self.pool, self.name = redis_url, pool, name

    async def queued(self) -> int:
        return int(await self.pool.zcard(self.name))

    async def run_worker(self, runtime: Runtime) -> Worker:
        """One burst of a real arq worker: it runs every queued job, and the jobs those jobs queue."""
        pool = await create_pool(RedisSettings.from_dsn(self.redis_url), default_queue_name=self.name)
        worker = Worker(
            WorkerSettings.functions, queue_name=self.name, redis_pool=pool, burst=True,
            handle_signals=False, ctx={"runtime": runtime}, keep_result=0, poll_delay=0.05,
        )  # fmt: skip
        try:
            await worker.main()
        finally:
            await worker.close()
        return worker

    def attach(self, runtime: Runtime) -> None:
        runtime.queue = ArqJobQueue(self.pool)


@pytest.fixture
async def redis_queue(redis_url: str) -> AsyncIterator[RedisQueue]:
    name = f"arq:test:{secrets.token_hex(4)}"
    pool = await create_pool(RedisSettings.from_dsn(redis_url), default_queue_name=name)
    try:
        yield RedisQueue(redis_url, pool, name)
    finally:
        # Job keys are global in arq: leave no requeue id behind for another run with the same mail ids.
        keys = [key async for key in pool.scan_iter(match="arq:job:requeue-*")]
        if keys:
            await pool.delete(*keys)
        await pool.delete(name)
        await pool.aclose()


async def cron(runtime: Runtime, name: str) -> int:
    """Run a cron of the worker's list once, as arq's scheduler would."""
    [job] = [c for c in WorkerSettings.cron_jobs if c.name == f"cron:{name}"]
    result: int = await job.coroutine({"runtime": runtime})
    return result


async def test_pending_mail_whose_job_was_lost_is_processed_once_the_requeue_cron_runs_in_the_worker(
    runtime: Runtime, clock: FixedClock, redis_queue: RedisQueue
) -> None:
    service = MailService(runtime)
    lost = [  # stored, but their jobs were never run (as if Redis was flushed)
        (await service.store(make_mail(subject=f"Lost {n}"), InboundSource.PIPE, enqueue=False)).id
        for n in range(3)
    ]
    clock.advance(timedelta(minutes=15))
    await service.store(make_mail(subject="Just in"), InboundSource.PIPE, enqueue=False)
    redis_queue.attach(runtime)
    assert await cron(runtime, "requeue_stuck_inbound_mail_job") == 3  # not the fresh one: its job may come
    await redis_queue.run_worker(runtime)
    assert [(await inbound(runtime, i)).status for i in lost] == ["processed"] * 3
    assert len(await outgoing(runtime, "ticket_acknowledgement")) == 4  # the fresh one went with the batch


async def test_running_the_inbound_requeue_twice_queues_each_stuck_mail_once(
    runtime: Runtime, clock: FixedClock, redis_queue: RedisQueue
) -> None:
    service = MailService(runtime)
    ids = [
        (await service.store(make_mail(subject=f"Stuck {n}"), InboundSource.SMTP, enqueue=False)).id
        for n in range(2)
    ]
    clock.advance(timedelta(minutes=15))
    redis_queue.attach(runtime)
    assert await cron(runtime, "requeue_stuck_inbound_mail_job") == 2
    assert await cron(runtime, "requeue_stuck_inbound_mail_job") == 2
    assert await redis_queue.queued() == 2  # the second run's jobs had the same ids: nothing was added
    await redis_queue.run_worker(runtime)
    assert [(await inbound(runtime, i)).status for i in ids] == ["processed"] * 2
    assert len(await outgoing(runtime, "ticket_acknowledgement")) == 2  # one ticket each, not two
    assert await cron(runtime, "requeue_stuck_inbound_mail_job") == 0


async def test_unsent_outgoing_mail_whose_job_was_lost_is_sent_once_by_the_requeue_cron(
    make_client: Any, smtp_server: Any, clock: FixedClock, redis_queue: RedisQueue
) -> None:
    async with make_client(mail_enabled=False) as (_, quiet):  # the send job runs and sends nothing
        await MailService(quiet).store(make_mail(subject="Acknowledge me"), InboundSource.PIPE)
        await quiet.queue.drain()  # type: ignore[attr-defined]
    async with make_client(mail_enabled=True, smtp_port=smtp_server.port) as (_, runtime):
        [acknowledgement] = await outgoing(runtime, "ticket_acknowledgement")
        assert acknowledgement.sent_at is None
        redis_queue.attach(runtime)
        clock.advance(timedelta(minutes=10))
        assert await cron(runtime, "requeue_stuck_outgoing_mail_job") == 0  # its own job may still retry
        clock.advance(timedelta(minutes=30))
        assert await cron(runtime, "requeue_stuck_outgoing_mail_job") == 1
        assert await cron(runtime, "requeue_stuck_outgoing_mail_job") == 1
        await redis_queue.run_worker(runtime)
        assert [m["Message-ID"] for m in smtp_server.messages] == [acknowledgement.message_id]
        assert await cron(runtime, "requeue_stuck_outgoing_mail_job") == 0


async def test_outgoing_mail_days_old_is_not_sent_late_by_the_requeue_cron(
    make_client: Any, clock: FixedClock, redis_queue: RedisQueue
) -> None:
    async with make_client(mail_enabled=False) as (_, quiet):
        await MailService(quiet).store(make_mail(subject="Old news"), InboundSource.PIPE)
        await quiet.queue.drain()  # type: ignore[attr-defined]
    async with make_client(mail_enabled=True) as (_, runtime):
        redis_queue.attach(runtime)
        clock.advance(timedelta(days=3))
        assert await cron(runtime, "requeue_stuck_outgoing_mail_job") == 0
        assert await redis_queue.queued() == 0
