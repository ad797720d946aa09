"""Outgoing mail whose send job was lost (Redis flushed, a job abandoned after its last try) goes out anyway.

A mail is stuck when it is neither sent nor failed well after it was queued: longer than every retry of its
own job could take, so a job still backing off is not doubled. Mail older than ``MAX_AGE`` is left alone:
a "we received your request" sent days late does more harm than good (it stays visible as unsent).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from helpdesk.notifications.models import OutgoingMail
from helpdesk.notifications.service import SEND_JOB
from helpdesk.runtime import Runtime

# Longer than the send job's own retries (10 s doubling to 600 s over 8 tries, about 21 minutes).
GRACE = timedelta(minutes=30)
MAX_AGE = timedelta(days=2)
# Mails queued per run; the rest wait for the next run.
LIMIT = 1000


def requeue_job_id(mail_id: int) -> str:
    """One job id per mail: queuing it again while it is queued, running or its result is kept changes
    nothing."""
    return f"requeue-send-mail-{mail_id}"


async def requeue_stuck_outgoing_mail(runtime: Runtime) -> int:
    """Queue a send job for every stuck mail (oldest first, at most ``LIMIT``); returns how many were
    queued. Idempotent: the job ids dedupe, and sending skips a mail that was sent meanwhile. Nothing is
    queued while sending is switched off (mail then waits in the table on purpose)."""
    if not runtime.settings.mail_enabled:
        return 0
    now = runtime.clock.now()
    async with runtime.sessions() as session:
        ids = list(
            await session.scalars(
                select(OutgoingMail.id)
                .where(
                    OutgoingMail.sent_at.is_(None),
                    OutgoingMail.failed_at.is_(None),
                    OutgoingMail.created_at < now - GRACE,
                    OutgoingMail.created_at >= now - MAX_AGE,
                )
                .order_by(OutgoingMail.id)
                .limit(LIMIT)
            )
        )
    for mail_id in ids:
        await runtime.queue.enqueue(SEND_JOB, mail_id, job_id=requeue_job_id(mail_id))
    return len(ids)
