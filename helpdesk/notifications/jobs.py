from __future__ import annotations

from typing import Any

from helpdesk.notifications.service import send_mail


async def send_mail_job(ctx: dict[str, Any], mail_id: int) -> bool:
    return await send_mail(ctx["runtime"], mail_id, int(ctx.get("job_try", 1)))
