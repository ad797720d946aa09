"""Helpers for the e-mail channel's integration tests: build a raw mail, deliver it through the pipeline."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from sqlalchemy import select

from helpdesk.channels.email.models import InboundMail, InboundSource
from helpdesk.channels.email.service import MailService
from helpdesk.notifications.models import OutgoingMail
from helpdesk.runtime import Runtime
from helpdesk.tickets.models import Message, Ticket


def make_mail(
    *,
    sender: str = "Anna Petrova <anna@example.com>",
    to: str = "support@helpdesk.localhost",
    subject: str = "Printer jams",
    body: str = "The printer jams on page 2.",
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
    html: str | None = None,
    attachments: list[dict[str, Any]] | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime(2027, 3, 1, 8, 0, tzinfo=UTC))
    message["Message-ID"] = message_id or f"<{secrets.token_hex(8)}@mail.example.com>"
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for attachment in attachments or []:
        message.add_attachment(
            attachment["data"], maintype=attachment.get("maintype", "application"),
            subtype=attachment.get("subtype", "octet-stream"), filename=attachment["filename"],
            cid=attachment.get("cid"), disposition=attachment.get("disposition", "attachment"),
        )  # fmt: skip
    return bytes(message)


async def deliver(
    runtime: Runtime, raw: bytes, source: InboundSource = InboundSource.PIPE
) -> tuple[int, str]:
    """Store and process one mail in the test's process; returns (inbound id, outcome)."""
    service = MailService(runtime)
    stored = await service.store(raw, source, enqueue=False)
    return stored.id, await service.process(stored.id)


async def inbound(runtime: Runtime, inbound_id: int) -> InboundMail:
    async with runtime.sessions() as session:
        row = await session.get(InboundMail, inbound_id)
    assert row is not None
    return row


async def ticket_of(runtime: Runtime, inbound_id: int) -> Ticket:
    row = await inbound(runtime, inbound_id)
    assert row.ticket_id is not None, (row.status, row.flag_reason)
    async with runtime.sessions() as session:
        ticket = await session.get(Ticket, row.ticket_id)
    assert ticket is not None
    return ticket


async def messages(runtime: Runtime, ticket_id: int) -> list[Message]:
    async with runtime.sessions() as session:
        return list(
            await session.scalars(select(Message).where(Message.ticket_id == ticket_id).order_by(Message.id))
        )


async def outgoing(runtime: Runtime, kind: str | None = None) -> list[OutgoingMail]:
    async with runtime.sessions() as session:
        query = select(OutgoingMail).order_by(OutgoingMail.id)
        if kind is not None:
            query = query.where(OutgoingMail.kind == kind)
        return list(await session.scalars(query))
