"""Stored mail is never left behind: mail whose processing job was lost gets a job again.

Every mail is stored as ``pending`` with its processing job recorded in the outbox, but the job itself
lives in Redis and can be lost (Redis flushed or restarted without persistence, a job abandoned after its
last try while the database was away). :func:`requeue_stuck_inbound_mail` finds pending mail older than
``GRACE`` and queues its processing under a job id of its own, so a second run changes nothing while that
job is queued, running or remembered; processing itself skips mail that is no longer pending.

:func:`queue_retries` gives the other mails of a batch their own retry when the batch could not finish
them: their own jobs may have ended already (they found the mails held by the batch).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import select

from helpdesk.channels.email.models import InboundMail, InboundStatus
from helpdesk.channels.email.service import PROCESS_JOB
from helpdesk.runtime import Runtime

# Longer than a mail's own job keeps retrying (5 tries, 10 s doubling: about 5 minutes).
GRACE = timedelta(minutes=10)
# Mails queued per run; a queued job also takes up to a batch of other never-tried mails with it.
LIMIT = 1000


def requeue_job_id(inbound_id: int) -> str:
    return f"requeue-inbound-{inbound_id}"


async def requeue_stuck_inbound_mail(runtime: Runtime) -> int:
    """Queue the processing of every pending mail received more than ``GRACE`` ago (oldest first, at most
    ``LIMIT``); returns how many were queued. Idempotent."""
    now = runtime.clock.now()
    async with runtime.sessions() as session:
        ids = list(
            await session.scalars(
                select(InboundMail.id)
                .where(
                    InboundMail.status == InboundStatus.PENDING.value,
                    InboundMail.received_at < now - GRACE,
                )
                .order_by(InboundMail.id)
                .limit(LIMIT)
            )
        )
    for inbound_id in ids:
        await runtime.queue.enqueue(PROCESS_JOB, inbound_id, job_id=requeue_job_id(inbound_id))
    return len(ids)


async def queue_retries(
    runtime: Runtime, inbound_ids: Iterable[int], *, batch_job: str, defer_seconds: float
) -> None:
    """Queue one deferred processing job per mail; ``batch_job`` names the batch run (its first mail and
    try), so a batch run delivered twice queues each retry once."""
    for inbound_id in inbound_ids:
        await runtime.queue.enqueue(
            PROCESS_JOB,
            inbound_id,
            job_id=f"retry-inbound-{inbound_id}-after-{batch_job}",
            defer_seconds=defer_seconds,
        )
