"""arq tasks of the e-mail channel: ids in, idempotent (a processed mail or a fetched message is skipped)."""

from __future__ import annotations

from typing import Any

from helpdesk.core.queue import Retry
from helpdesk.core.transient import is_transient, transient_delay_seconds


async def process_inbound_mail_job(ctx: dict[str, Any], inbound_id: int) -> str:
    """Turn one stored mail into a ticket, a reply, a note or a flag; retried with backoff on failure.

    When other mails are waiting (never tried yet), up to ``BATCH_SIZE`` of them are processed with this one
    in one transaction; their own jobs then find them processed and skip. Those the batch could not finish
    (the database went away, a mail failed) get a retry job of their own, since their own jobs may have
    ended already. A database that is away makes the job retry rather than fail."""
    from helpdesk.channels.email.requeue import queue_retries
    from helpdesk.channels.email.service import BATCH_SIZE, MailService

    runtime = ctx["runtime"]
    job_try = int(ctx.get("job_try", 1))
    batch_job = f"{inbound_id}-try-{job_try}"
    service = MailService(runtime)
    pending = await service.pending_ids(first=inbound_id, limit=BATCH_SIZE)
    others = [other for other in pending if other != inbound_id]
    try:
        if others:
            outcomes = await service.process_batch(pending)
        else:
            outcomes = {inbound_id: await service.process(inbound_id)}
    except Exception as error:
        if others and is_transient(error):
            delay = transient_delay_seconds(job_try)
            await queue_retries(runtime, others, batch_job=batch_job, defer_seconds=delay)
        raise
    unfinished = [other for other in others if outcomes.get(other) == "retry"]
    await queue_retries(runtime, unfinished, batch_job=batch_job, defer_seconds=_retry_delay(job_try))
    if outcomes[inbound_id] == "retry":
        raise Retry(defer=_retry_delay(job_try))
    return outcomes[inbound_id]


def _retry_delay(job_try: int) -> int:
    return int(min(300, 5 * 2**job_try))


async def fetch_mailbox_job(ctx: dict[str, Any], mailbox_id: int) -> int:
    """Fetch the unseen mail of one IMAP mailbox; returns how many new mails were stored."""
    from helpdesk.channels.email.imap import fetch_mailbox

    return await fetch_mailbox(ctx["runtime"], mailbox_id)


async def fetch_all_mailboxes_job(ctx: dict[str, Any]) -> int:
    """Cron: queue one fetch per enabled mailbox (a unique job id, so a slow fetch is not doubled)."""
    from helpdesk.channels.email.imap import enabled_mailbox_ids

    runtime = ctx["runtime"]
    ids = await enabled_mailbox_ids(runtime)
    for mailbox_id in ids:
        await runtime.queue.enqueue("fetch_mailbox_job", mailbox_id, job_id=f"fetch-mailbox-{mailbox_id}")
    return len(ids)


async def requeue_stuck_inbound_mail_job(ctx: dict[str, Any]) -> int:
    """Cron: queue the processing of pending mail whose own job was lost; returns how many were queued."""
    from helpdesk.channels.email.requeue import requeue_stuck_inbound_mail

    return await requeue_stuck_inbound_mail(ctx["runtime"])
