"""Inbound mail: store the raw message first, then turn it into a ticket, a reply, a note or a flag.

Guarantees:
- nothing is dropped: every mail is stored raw before it is parsed, and a mail that cannot be (or must
  not be) turned into a ticket stays stored with ``status = flagged`` and a readable ``flag_reason``;
- exactly once: the ticket message, its attachments, the Message-ID map, the recipients and the row's
  ``processed`` status commit in ONE transaction (see :mod:`recording`), which only succeeds while the row
  is still pending, so a retried, duplicated or crashed-and-restarted job never writes twice;
- no loops: machine-made mail is never answered, and automatic answers per sender are capped.

Decisions: a bounce is kept as an internal note on the ticket of the returned message and never reopens
it; an automatic reply (out-of-office and other auto-submitted mail) that threads to a ticket is kept the
same way (it is not the customer answering, so it neither reopens the ticket nor restarts SLA clocks); an
out-of-office reply that threads nowhere is flagged; other auto-submitted mail (alerts, noreply senders)
opens a ticket without an acknowledgement.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.channels.email.models import InboundMail, InboundOutcome, InboundSource, InboundStatus
from helpdesk.channels.email.parser import ParsedMail, parse_message
from helpdesk.channels.email.recording import AlreadyProcessed, Recorder, db_text
from helpdesk.channels.email.store import StoredMail, store_raw
from helpdesk.channels.email.threading import Placement, match_by_ids, place_mail
from helpdesk.core.db import transaction
from helpdesk.core.errors import DomainError, TooLarge
from helpdesk.core.outbox import add_outbox_job
from helpdesk.core.principal import Principal
from helpdesk.core.settings import Settings
from helpdesk.customers.models import Customer, Organisation
from helpdesk.customers.service import clear_bouncing, find_or_create_customer, mark_bouncing
from helpdesk.notifications.models import OutgoingMail
from helpdesk.runtime import Runtime
from helpdesk.tickets.rules import Channel
from helpdesk.tickets.schemas import MessageCreate, TicketCreate
from helpdesk.tickets.service import TicketService

log = logging.getLogger(__name__)

PROCESS_JOB = "process_inbound_mail_job"
# Attempts before a mail whose processing keeps failing is marked failed for a person to look at.
MAX_ATTEMPTS = 5
NO_SUBJECT = "(no subject)"
EMPTY_BODY = "(empty message)"


def own_addresses(settings: Settings) -> frozenset[str]:
    """The help desk's own addresses: mail from them is a loop, and they never become customers."""
    from email.utils import parseaddr

    listed = [a.strip().lower() for a in settings.mail_own_addresses.split(",") if a.strip()]
    return frozenset([*listed, parseaddr(settings.mail_from)[1].lower()]) - {""}


class MailService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.tickets = TicketService(runtime)
        self.own = own_addresses(runtime.settings)

    async def store(
        self, raw: bytes, source: InboundSource, *, mailbox: str | None = None, enqueue: bool = True
    ) -> StoredMail:
        """Store a raw message (idempotent by Message-ID, else by content) and queue its processing.

        A mail stored before returns the first row's id with ``created = False`` and queues nothing.
        Raises ``TooLarge`` above ``max_inbound_mail_bytes`` (the sender's server then bounces it).
        """
        limit = self.runtime.settings.max_inbound_mail_bytes
        if len(raw) > limit:
            raise TooLarge(f"the message is {len(raw)} bytes; the limit is {limit} bytes", field="message")
        now = self.runtime.clock.now()
        async with transaction(self.runtime.sessions) as session:
            stored = await store_raw(session, now, raw, source, mailbox=mailbox)
            if stored.created and enqueue:
                add_outbox_job(session, now, PROCESS_JOB, stored.id)
        if stored.created and enqueue:
            await self.runtime.after_commit()
        return stored

    async def process(self, inbound_id: int) -> str:
        """Process one stored mail unless it was processed already; returns what happened: an
        ``InboundOutcome`` value, ``flagged``, ``skipped`` (not pending, or another run won), ``retry`` (the
        job should run again) or ``failed`` (after ``MAX_ATTEMPTS``). Never raises for bad mail."""
        claimed = await self._claim(inbound_id)
        if claimed is None:
            return "skipped"
        raw, attempts = claimed
        try:
            mail = parse_message(
                raw,
                fallback_charsets=self._fallback_charsets(),
                max_attachment_bytes=self.runtime.settings.max_attachment_bytes,
            )
            return await self._route(inbound_id, mail)
        except AlreadyProcessed:
            return "skipped"
        except Exception as error:
            log.exception("processing inbound mail %s failed (attempt %d)", inbound_id, attempts)
            final = attempts >= MAX_ATTEMPTS
            await self._record_failure(inbound_id, error, final=final)
            return "failed" if final else "retry"

    async def _claim(self, inbound_id: int) -> tuple[bytes, int] | None:
        async with transaction(self.runtime.sessions) as session:
            row = await session.scalar(
                select(InboundMail).where(InboundMail.id == inbound_id).with_for_update(skip_locked=True)
            )
            if row is None or row.status != InboundStatus.PENDING:
                return None
            row.attempts += 1
            return row.raw, row.attempts

    def _fallback_charsets(self) -> list[str]:
        return [c.strip() for c in self.runtime.settings.mail_fallback_charsets.split(",") if c.strip()]

    async def _refusal(self, session: AsyncSession, mail: ParsedMail) -> str | None:
        """Why this mail must not become a ticket at all, or None."""
        if mail.unparseable:
            return f"unparseable: {'; '.join(mail.defects) or 'not a mail message'}"
        if not mail.from_address or "@" not in mail.from_address:
            return "no sender address"
        if mail.from_address.lower() in self.own:
            return f"sent from the help desk's own address {mail.from_address} (a mail loop)"
        if mail.message_id and not mail.bounce:
            ours = await session.scalar(
                select(OutgoingMail.id).where(OutgoingMail.message_id == mail.message_id[:255])
            )
            if ours is not None:
                return "the help desk's own outgoing mail came back (a mail loop)"
        return None

    async def _route(self, inbound_id: int, mail: ParsedMail) -> str:
        settings = self.runtime.settings
        now = self.runtime.clock.now()
        async with self.runtime.sessions() as session:
            refusal = await self._refusal(session, mail)
            bounce_match = None
            if refusal is None and mail.bounce:
                report = mail.bounce_report
                bounce_match = await match_by_ids(
                    session,
                    report.original_message_id if report else None,
                    report.original_references if report else mail.references,
                )
        if refusal is not None:
            return await self.flag(inbound_id, refusal, mail)
        if mail.bounce:
            return await self._bounce(inbound_id, mail, bounce_match.ticket_id if bounce_match else None)
        customer, shares = await self._customer(mail)
        async with self.runtime.sessions() as session:
            placement = await place_mail(
                session,
                in_reply_to=mail.in_reply_to,
                references=mail.references,
                subject=mail.subject,
                customer=customer,
                shares_organisation=shares,
                prefix=settings.ticket_prefix,
                fallback_days=settings.mail_thread_fallback_days,
                now=now,
            )
            over_auto_cap = await self._count(
                session, customer.email, now - timedelta(minutes=settings.mail_auto_reply_window_minutes),
                InboundMail.acknowledged.is_(True),
            ) >= settings.mail_auto_reply_cap  # fmt: skip
            over_ticket_cap = await self._count(
                session, customer.email, now - timedelta(days=1),
                InboundMail.outcome == InboundOutcome.NEW_TICKET.value,
            ) >= settings.mail_new_ticket_cap_per_day  # fmt: skip
        recorder = Recorder(self.runtime, inbound_id, mail, customer, self.own)
        if placement.match is not None:
            return await self._into_ticket(recorder, placement, customer, shares)
        if mail.out_of_office:
            return await self.flag(inbound_id, "automatic reply that belongs to no known ticket", mail)
        if over_ticket_cap:
            cap = settings.mail_new_ticket_cap_per_day
            return await self.flag(inbound_id, f"over the cap of {cap} new tickets per sender and day", mail)
        acknowledge = not mail.auto_submitted and not over_auto_cap
        if not mail.auto_submitted and over_auto_cap:
            recorder.note(
                f"not acknowledged: over the cap of {settings.mail_auto_reply_cap} automatic replies per "
                f"{settings.mail_auto_reply_window_minutes} minutes to this sender"
            )
        await self.tickets.open(
            _principal(customer, shares),
            TicketCreate(subject=db_text(mail.subject) or NO_SUBJECT, description=_text(mail.body_text)),
            channel=Channel.EMAIL,
            body_html=recorder.full_html(),
            acknowledge=acknowledge,
            within=recorder.hook(InboundOutcome.NEW_TICKET, acknowledged=acknowledge),
        )
        return InboundOutcome.NEW_TICKET.value

    async def _into_ticket(
        self, recorder: Recorder, placement: Placement, customer: Customer, shares: bool
    ) -> str:
        mail = recorder.mail
        assert placement.match is not None
        ticket_id = placement.match.ticket_id
        if mail.auto_submitted or placement.participant:
            label = (
                "automatic reply"
                if mail.auto_submitted
                else f"reply from {customer.email}, copied on the thread"
            )
            await self.tickets.add_system_message(
                ticket_id,
                body=_text(f"[{label}] {mail.subject}\n\n{mail.reply_text or mail.body_text}"),
                body_html=recorder.full_html(),
                channel=Channel.EMAIL,
                author_customer_id=customer.id,
                within=recorder.hook(
                    InboundOutcome.AUTO_REPLY if mail.auto_submitted else InboundOutcome.REPLY
                ),
            )
        else:
            await self.tickets.add_message(
                _principal(customer, shares),
                ticket_id,
                MessageCreate(body=_text(mail.reply_text or mail.body_text)),
                channel=Channel.EMAIL,
                body_html=recorder.full_html(),
                within=recorder.hook(InboundOutcome.REPLY, matched_ticket_id=ticket_id),
            )
        return str(recorder.outcome)

    async def _bounce(self, inbound_id: int, mail: ParsedMail, ticket_id: int | None) -> str:
        if ticket_id is None:
            return await self.flag(
                inbound_id, "delivery failure report for a message the help desk does not know", mail
            )
        recorder = Recorder(self.runtime, inbound_id, mail, None, self.own)
        report = mail.bounce_report
        failed = ", ".join(r.address for r in report.recipients) if report else ""
        await self.tickets.add_system_message(
            ticket_id,
            body=_text(f"[delivery failure] {mail.subject}\n{failed}\n\n{mail.body_text}"),
            body_html=recorder.full_html(),
            channel=Channel.EMAIL,
            within=recorder.hook(InboundOutcome.BOUNCE, bounced=True),
        )
        return InboundOutcome.BOUNCE.value

    async def _customer(self, mail: ParsedMail) -> tuple[Customer, bool]:
        """The sender as a customer (created when new) and whether their organisation shares tickets."""
        assert mail.from_address is not None
        now = self.runtime.clock.now()
        async with transaction(self.runtime.sessions) as session:
            customer = await find_or_create_customer(
                session, now, email=db_text(mail.from_address), name=db_text(mail.from_name) or None
            )
            if not mail.auto_submitted:
                clear_bouncing(customer)
            await session.flush()
            shares = False
            if customer.organisation_id is not None:
                organisation = await session.get(Organisation, customer.organisation_id)
                shares = bool(organisation and organisation.shares_tickets)
            return customer, shares

    async def _count(self, session: AsyncSession, address: str, since: datetime, condition: Any) -> int:
        count = await session.scalar(
            select(func.count())
            .select_from(InboundMail)
            .where(InboundMail.from_address == address, InboundMail.received_at >= since, condition)
        )
        return int(count or 0)

    async def flag(self, inbound_id: int, reason: str, mail: ParsedMail | None = None) -> str:
        """Keep the mail stored, not turned into a ticket, with a reason a person can read.
        A flagged bounce still marks its failed recipients as bouncing."""
        now = self.runtime.clock.now()
        async with transaction(self.runtime.sessions) as session:
            if mail is not None and mail.bounce and mail.bounce_report is not None:
                for recipient in mail.bounce_report.recipients:
                    await mark_bouncing(session, now, recipient.address)
            sender = db_text((mail.from_address or "").lower()[:320]) if mail is not None else ""
            result = await session.execute(
                update(InboundMail)
                .where(InboundMail.id == inbound_id, InboundMail.status == InboundStatus.PENDING.value)
                .values(
                    status=InboundStatus.FLAGGED.value,
                    flag_reason=db_text(reason)[:2000],
                    processed_at=now,
                    from_address=sender or None,
                    auto_submitted=bool(mail is not None and mail.auto_submitted),
                )
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return "skipped"
        return "flagged"

    async def _record_failure(self, inbound_id: int, error: Exception, *, final: bool) -> None:
        detail = error.detail if isinstance(error, DomainError) else f"{type(error).__name__}: {error}"
        values: dict[str, Any] = {"flag_reason": db_text(f"processing failed: {detail}")[:2000]}
        if final:
            values.update(status=InboundStatus.FAILED.value, processed_at=self.runtime.clock.now())
        async with transaction(self.runtime.sessions) as session:
            await session.execute(
                update(InboundMail)
                .where(InboundMail.id == inbound_id, InboundMail.status == InboundStatus.PENDING.value)
                .values(**values)
            )


def _principal(customer: Customer, shares: bool) -> Principal:
    return Principal(
        customer_id=customer.id,
        organisation_id=customer.organisation_id,
        organisation_shares=shares,
        name=customer.name or customer.email,
    )


def _text(text: str) -> str:
    return db_text(text).strip()[:100_000] or EMPTY_BODY
