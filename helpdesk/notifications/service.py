"""Queue mail in the caller's transaction; send it later, exactly once, from a job."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any, Required, TypedDict, Unpack

import aiosmtplib
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.core.db import transaction
from helpdesk.core.outbox import add_outbox_job
from helpdesk.core.queue import Retry
from helpdesk.core.transient import is_transient
from helpdesk.notifications.models import MailReference, OutgoingMail
from helpdesk.runtime import Runtime

log = logging.getLogger(__name__)

SEND_JOB = "send_mail_job"
# Attempts before a failing message is marked failed for a person to look at.
MAX_ATTEMPTS = 8
# Pauses between tries to store the sent marker of a mail that went out while the database was away.
MARKER_RETRY_SECONDS = (0.5, 1, 2, 4, 8, 15)


def _clean_header(value: str) -> str:
    """No CR, LF or other control characters can reach an outgoing header."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in value).split())


class MailFields(TypedDict, total=False):
    """What one queued mail says: the keywords of :func:`queue_mail` and :func:`outgoing_mail_values`. The
    optional ones, left out: no HTML part, no ticket, no thread headers, ``Auto-Submitted: auto-generated``, a
    Message-ID at ``helpdesk.localhost``."""

    kind: Required[str]
    to_address: Required[str]
    subject: Required[str]
    body_text: Required[str]
    body_html: str
    ticket_id: int | None
    in_reply_to: str | None
    references: str | None
    auto_submitted: str | None
    domain: str


def queue_mail(session: AsyncSession, now: datetime, **mail: Unpack[MailFields]) -> OutgoingMail:
    """Add a message and its send job to the current transaction; nothing leaves before commit."""
    queued = OutgoingMail(**outgoing_mail_values(now, **mail))
    session.add(queued)
    return queued


def outgoing_mail_values(now: datetime, **mail: Unpack[MailFields]) -> dict[str, Any]:
    """The column values of one queued mail (headers cleaned, a fresh Message-ID): what :func:`queue_mail`
    adds, for a caller that inserts many rows in one statement."""
    return {
        "kind": mail["kind"],
        "ticket_id": mail.get("ticket_id"),
        "to_address": _clean_header(mail["to_address"]),
        "subject": _clean_header(mail["subject"])[:400],
        "body_text": mail["body_text"],
        "body_html": mail.get("body_html", ""),
        "message_id": f"<{secrets.token_hex(16)}@{mail.get('domain', 'helpdesk.localhost')}>",
        "in_reply_to": mail.get("in_reply_to"),
        "references": mail.get("references"),
        "auto_submitted": mail.get("auto_submitted", "auto-generated"),
        "created_at": now,
        "attempts": 0,
    }


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
    return thread_of(received + sent)


def thread_of(mails: list[tuple[datetime, str, bool]]) -> tuple[str | None, str | None]:
    """In-Reply-To and References from a ticket's mail as (created_at, Message-ID, received) triples (ties
    in time keep their order; see :func:`thread_headers`). Pure, for a caller that knows the thread without
    asking the database (a ticket opened by a mail in this transaction has that mail only)."""
    thread = [item for item in sorted(mails, key=lambda i: i[0]) if _MESSAGE_ID.fullmatch(item[1])]
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
    mail failed with the reason, where the agents can see it. When the database goes away after the server
    accepted the mail, the sent marker is stored later (see :func:`_store_sent_marker`), never by sending
    again; a database error before the mail went out propagates (the job retries it).
    """
    settings = runtime.settings
    if not settings.mail_enabled:
        # Mail stays in the outbox table (the demo without an SMTP server); nothing to read.
        return False
    unmarked: dict[int, datetime] = runtime.extras.setdefault("mail_sent_unmarked", {})
    if mail_id in unmarked:  # it went out on an earlier try of this job; only its marker is missing
        await _store_sent_marker(runtime, mail_id, unmarked)
        return True
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
        sent_at = mail.sent_at
        try:
            await session.commit()
        except Exception as error:
            if sent_at is None or not is_transient(error):
                raise
            log.warning("mail %s was sent but the database went away before it was marked sent", mail_id)
            unmarked[mail_id] = sent_at
    if mail_id in unmarked:
        await _store_sent_marker(runtime, mail_id, unmarked)
    if retry is not None:
        raise retry
    return sent_at is not None


async def _store_sent_marker(runtime: Runtime, mail_id: int, unmarked: dict[int, datetime]) -> None:
    """Mark a mail that went out as sent, waiting for the database to come back for a while.

    The server accepted the mail, so sending it again would deliver it twice: the marker is retried here,
    and should the database stay away longer, the mail is remembered in ``unmarked`` so that the job's next
    try (in this process) stores the marker instead of sending. Raises the last database error then.
    """
    sent_at = unmarked[mail_id]
    for pause in (*MARKER_RETRY_SECONDS, None):
        try:
            async with transaction(runtime.sessions) as session:
                # Only while unmarked: the lost commit may have reached the server after all.
                await session.execute(
                    update(OutgoingMail)
                    .where(OutgoingMail.id == mail_id, OutgoingMail.sent_at.is_(None))
                    .values(sent_at=sent_at, last_error=None, attempts=OutgoingMail.attempts + 1)
                )
        except Exception as error:
            if pause is None or not is_transient(error):
                raise
            await asyncio.sleep(pause)
        else:
            unmarked.pop(mail_id, None)
            return


def _describe(exc: BaseException) -> str:
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"{exc.code} {exc.message}"
    return str(exc) or exc.__class__.__name__
