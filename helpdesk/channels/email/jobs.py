"""arq tasks of the e-mail channel: ids in, idempotent (a processed mail or a fetched message is skipped)."""

from __future__ import annotations

from typing import Any

from helpdesk.core.queue import Retry


async def process_inbound_mail_job(ctx: dict[str, Any], inbound_id: int) -> str:
    """Turn one stored mail into a ticket, a reply, a note or a flag; retried with backoff on failure.

    When other mails are waiting (never tried yet), up to ``BATCH_SIZE`` of them are processed with this one
    in one transaction; their own jobs then find them processed and skip."""
    from helpdesk.channels.email.service import BATCH_SIZE, MailService

    service = MailService(ctx["runtime"])
    pending = await service.pending_ids(first=inbound_id, limit=BATCH_SIZE)
    if len(pending) > 1:
        outcome = (await service.process_batch(pending))[inbound_id]
    else:
        outcome = await service.process(inbound_id)
    if outcome == "retry":
        raise Retry(defer=min(300, 5 * 2 ** int(ctx.get("job_try", 1))))
    return outcome


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
