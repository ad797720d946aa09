"""Queue mail in the caller's transaction; send it later, exactly once, from a job."""

from __future__ import annotations

import logging
import re
import secrets
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr

import aiosmtplib
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.core.outbox import add_outbox_job
from helpdesk.core.queue import Retry
from helpdesk.notifications.models import MailReference, OutgoingMail
from helpdesk.runtime import Runtime

log = logging.getLogger(__name__)

SEND_JOB = "send_mail_job"
# Attempts before a failing message is marked failed for a person to look at.
MAX_ATTEMPTS = 8


def _clean_header(value: str) -> str:
    """No CR, LF or other control characters can reach an outgoing header."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in value).split())


def queue_mail(
    session: AsyncSession,
    now: datetime,
    *,
    kind: str,
    to_address: str,
    subject: str,
    body_text: str,
    body_html: str = "",
    ticket_id: int | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    auto_submitted: str | None = "auto-generated",
    domain: str = "helpdesk.localhost",
) -> OutgoingMail:
    """Add a message and its send job to the current transaction; nothing leaves before commit."""
    mail = OutgoingMail(
        kind=kind,
        ticket_id=ticket_id,
        to_address=_clean_header(to_address),
        subject=_clean_header(subject)[:400],
        body_text=body_text,
        body_html=body_html,
        message_id=f"<{secrets.token_hex(16)}@{domain}>",
        in_reply_to=in_reply_to,
        references=references,
        auto_submitted=auto_submitted,
        created_at=now,
    )
    session.add(mail)
    return mail


_MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")
MAX_REFERENCES = 20


async def thread_headers(session: AsyncSession, ticket_id: int) -> tuple[str | None, str | None]:
    """In-Reply-To and References for the next mail about a ticket, so mail clients thread it.

    In-Reply-To is the newest mail received on the ticket (the customer's original for the first answer),
    else the newest one sent; References lists the thread oldest first (the root and the newest ids when
    long). Only well-formed ``<id>`` values are used, so nothing a sender wrote can shape these headers.
    """
    received = [
        (created_at, message_id, True)
        for message_id, created_at in await session.execute(
            select(MailReference.message_id, MailReference.created_at).where(
                MailReference.ticket_id == ticket_id
            )
        )
    ]
    sent = [
        (created_at, message_id, False)
        for message_id, created_at in await session.execute(
            select(OutgoingMail.message_id, OutgoingMail.created_at)
            .where(OutgoingMail.ticket_id == ticket_id)
            .order_by(OutgoingMail.id)
        )
    ]
    thread = [item for item in sorted(received + sent, key=lambda i: i[0]) if _MESSAGE_ID.fullmatch(item[1])]
    if not thread:
        return None, None
    inbound = [message_id for _, message_id, is_received in thread if is_received]
    in_reply_to = inbound[-1] if inbound else thread[-1][1]
    ids = [message_id for _, message_id, _ in thread]
    if len(ids) > MAX_REFERENCES:
        ids = [ids[0], *ids[-(MAX_REFERENCES - 1) :]]
    return in_reply_to, " ".join(ids)


async def flush_mail_jobs(session: AsyncSession, now: datetime, mails: list[OutgoingMail]) -> None:
    """Record one send job per queued mail in the outbox (ids exist once flushed)."""
    await session.flush()
    for mail in mails:
        add_outbox_job(session, now, SEND_JOB, mail.id)


def build_email(mail: OutgoingMail, sender: str, *, include_html: bool = False) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    name, address = parseaddr(mail.to_address)
    message["To"] = formataddr((name, address))
    message["Subject"] = mail.subject
    message["Message-ID"] = mail.message_id
    message["Date"] = format_datetime(mail.created_at)
    if mail.in_reply_to:
        message["In-Reply-To"] = mail.in_reply_to
    if mail.references:
        message["References"] = mail.references
    if mail.auto_submitted:
        message["Auto-Submitted"] = mail.auto_submitted
        message["X-Auto-Response-Suppress"] = "All"
    message.set_content(mail.body_text)
    if mail.body_html and include_html:
        message.add_alternative(mail.body_html, subtype="html")
    return message


async def send_mail(runtime: Runtime, mail_id: int, attempt: int) -> bool:
    """Send one queued mail unless it was sent already; returns whether it went out now.

    Transient SMTP failures raise ``Retry`` with backoff; permanent ones (5xx) and the last attempt mark the
    mail failed with the reason, where the agents can see it.
    """
    settings = runtime.settings
    if not settings.mail_enabled:
        # Mail stays in the outbox table (the demo without an SMTP server); nothing to read.
        return False
    retry: Retry | None = None
    async with runtime.sessions() as session:
        # Reads, then writes the marker: on SQLite take the write lock first so a concurrent writer waits.
        await session.connection(execution_options={"sqlite_begin": "immediate"})
        mail = await session.scalar(
            select(OutgoingMail).where(OutgoingMail.id == mail_id).with_for_update(skip_locked=True)
        )
        if mail is None or mail.sent_at is not None or mail.failed_at is not None:
            return False
        mail.attempts += 1
        try:
            await aiosmtplib.send(
                build_email(mail, settings.mail_from, include_html=settings.mail_send_html),
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                username=settings.smtp_username,
                password=settings.smtp_password,
                start_tls=settings.smtp_starttls,
                use_tls=settings.smtp_tls,
                timeout=30,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            permanent = isinstance(exc, aiosmtplib.SMTPResponseException) and 500 <= exc.code < 600
            mail.last_error = _describe(exc)
            if permanent or mail.attempts >= MAX_ATTEMPTS:
                mail.failed_at = runtime.clock.now()
            else:
                retry = Retry(defer=min(600, 5 * 2**attempt))
        else:
            mail.sent_at = runtime.clock.now()
            mail.last_error = None
        sent = mail.sent_at is not None
        await session.commit()
    if retry is not None:
        raise retry
    return sent


def _describe(exc: BaseException) -> str:
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"{exc.code} {exc.message}"
    return str(exc) or exc.__class__.__name__
