from __future__ import annotations

from typing import Any

from helpdesk.notifications.service import send_mail


async def send_mail_job(ctx: dict[str, Any], mail_id: int) -> bool:
    return await send_mail(ctx["runtime"], mail_id, int(ctx.get("job_try", 1)))


async def requeue_stuck_outgoing_mail_job(ctx: dict[str, Any]) -> int:
    """Cron: queue the sending of mail whose own job was lost; returns how many were queued."""
    from helpdesk.notifications.requeue import requeue_stuck_outgoing_mail

    return await requeue_stuck_outgoing_mail(ctx["runtime"])
