"""``helpdesk mail listen``: an SMTP (or LMTP) server an MTA delivers inbound mail to.

Each accepted message is stored raw (idempotent) before the server answers 250, so a message the MTA
considers delivered is never lost; processing happens in a job. Over ``max_inbound_mail_bytes`` the
server answers 552 (the MTA bounces it to the sender); when the database is unreachable it answers 451
and the MTA keeps the message and retries later.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP

from helpdesk.channels.email.models import InboundSource
from helpdesk.core.errors import TooLarge
from helpdesk.runtime import Runtime

log = logging.getLogger(__name__)


class InboundHandler:
    """aiosmtpd handler: store on DATA, answer with the stored id."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        from helpdesk.channels.email.service import MailService

        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", errors="surrogateescape")
        recipient = envelope.rcpt_tos[0] if envelope.rcpt_tos else None
        try:
            stored = await MailService(self.runtime).store(raw, InboundSource.SMTP, mailbox=recipient)
        except TooLarge as error:
            return f"552 5.3.4 {error.detail}"
        except Exception:
            log.exception("storing a mail received over SMTP failed")
            return "451 4.3.0 cannot store the message now, try again later"
        return f"250 2.0.0 stored as inbound mail {stored.id}"


async def serve_smtp(runtime: Runtime, host: str, port: int, *, lmtp: bool = False) -> asyncio.Server:
    """Start listening in the running event loop (where the runtime's database connections live)."""
    handler = InboundHandler(runtime)
    limit = runtime.settings.max_inbound_mail_bytes
    protocol = LMTP if lmtp else SMTP
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: protocol(handler, data_size_limit=limit, enable_SMTPUTF8=True, hostname="helpdesk"),
        host=host,
        port=port,
    )
