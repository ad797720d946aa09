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
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.channels.email.models import InboundMail, InboundOutcome, InboundSource, InboundStatus
from helpdesk.channels.email.parser import ParsedMail, parse_message
from helpdesk.channels.email.recording import AlreadyProcessed, Recorder, db_text
from helpdesk.channels.email.store import StoredMail, store_raw
from helpdesk.channels.email.threading import (
    Placement,
    match_by_ids,
    place_mail,
    tickets_for_ids,
    wanted_ids,
)
from helpdesk.core import live
from helpdesk.core.db import transaction
from helpdesk.core.errors import DomainError, TooLarge
from helpdesk.core.outbox import add_outbox_job
from helpdesk.core.principal import Principal
from helpdesk.core.settings import Settings
from helpdesk.customers.models import Customer, Organisation
from helpdesk.customers.service import (
    clear_bouncing,
    find_or_create_customers,
    mark_bouncing,
    normalise_email,
)
from helpdesk.notifications.models import OutgoingMail
from helpdesk.runtime import Runtime
from helpdesk.tickets.rules import Channel
from helpdesk.tickets.schemas import MessageCreate, TicketCreate
from helpdesk.tickets.service import TicketService

log = logging.getLogger(__name__)

PROCESS_JOB = "process_inbound_mail_job"
# Attempts before a mail whose processing keeps failing is marked failed for a person to look at.
MAX_ATTEMPTS = 5
# Mails one job processes in one transaction when several are waiting.
BATCH_SIZE = 100
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
        outcomes = await self.process_batch([inbound_id])
        return outcomes[inbound_id]

    async def process_batch(self, inbound_ids: Sequence[int]) -> dict[int, str]:
        """Process many stored mails in one transaction; returns each id's outcome (as :meth:`process`).

        The Message-ID, sender, loop and cap lookups of the whole batch are a few set-based queries, made
        before the first write and kept current as the batch goes (a reply threads to a ticket opened
        earlier in the same batch). Each mail's writes and its processed marker share one savepoint: a mail
        that fails is rolled back alone and recorded (``retry``, or ``failed`` after ``MAX_ATTEMPTS``)
        while the others commit. Should the batch itself fail, each mail is processed alone.
        """
        claimed = await self._claim(inbound_ids)
        outcomes = dict.fromkeys(inbound_ids, "skipped")
        if not claimed:
            return outcomes
        charsets = self._fallback_charsets()
        limit = self.runtime.settings.max_attachment_bytes
        batch = [
            _Claimed(inbound_id, parse_message(raw, fallback_charsets=charsets, max_attachment_bytes=limit),
                     attempts, received_at)
            for inbound_id, (raw, attempts, received_at) in claimed.items()
        ]  # fmt: skip
        announce: dict[str, list[int]] = {"created": [], "updated": []}
        try:
            async with transaction(self.runtime.sessions) as session:
                lookups = await self._lookups(session, [item.mail for item in batch])
                for item in batch:
                    outcomes[item.inbound_id] = await self._one(session, lookups, item, announce)
        except Exception:
            if len(batch) == 1:
                return {**outcomes, batch[0].inbound_id: await self._failed_alone(batch[0])}
            log.exception("a batch of %d inbound mails failed; processing them one by one", len(batch))
            for item in batch:
                outcomes[item.inbound_id] = await self.process(item.inbound_id)
            return outcomes
        await self.runtime.after_commit()
        for event, ticket_ids in announce.items():
            if ticket_ids:
                await live.announce(self.runtime, event, ticket_ids)
        return outcomes

    async def _one(
        self, session: AsyncSession, lookups: _Lookups, item: _Claimed, announce: dict[str, list[int]]
    ) -> str:
        """One mail of a batch in its own savepoint; a failure is recorded in the batch's transaction."""
        try:
            async with session.begin_nested():
                outcome, ticket_id = await self._route(session, lookups, item)
        except AlreadyProcessed:
            return "skipped"
        except Exception as error:
            log.exception("processing inbound mail %s failed (attempt %d)", item.inbound_id, item.attempts)
            final = item.attempts >= MAX_ATTEMPTS
            await self._record_failure(session, item.inbound_id, error, final=final)
            return "failed" if final else "retry"
        lookups.after(item, outcome, ticket_id, self.runtime.settings)
        if ticket_id is not None:
            announce["created" if outcome == InboundOutcome.NEW_TICKET else "updated"].append(ticket_id)
        return outcome

    async def _failed_alone(self, item: _Claimed) -> str:
        log.exception("processing inbound mail %s failed (attempt %d)", item.inbound_id, item.attempts)
        final = item.attempts >= MAX_ATTEMPTS
        raised = sys.exc_info()[1]
        error = raised if isinstance(raised, Exception) else Exception("unknown failure")
        try:
            async with transaction(self.runtime.sessions) as session:
                await self._record_failure(
                    session, item.inbound_id, error or Exception("unknown"), final=final
                )
        except Exception:  # the database is away: the job is retried and tries again
            log.exception("recording the failure of inbound mail %s failed", item.inbound_id)
            return "retry"
        return "failed" if final else "retry"

    async def _claim(self, inbound_ids: Sequence[int]) -> dict[int, tuple[bytes, int, datetime]]:
        """Count an attempt for every pending mail of ``inbound_ids`` that no other run holds right now."""
        async with transaction(self.runtime.sessions) as session:
            rows = await session.scalars(
                select(InboundMail)
                .where(InboundMail.id.in_(inbound_ids), InboundMail.status == InboundStatus.PENDING.value)
                .order_by(InboundMail.id)
                .with_for_update(skip_locked=True)
            )
            claimed = {}
            for row in rows:
                row.attempts += 1
                claimed[row.id] = (row.raw, row.attempts, row.received_at)
            return claimed

    async def pending_ids(self, *, first: int, limit: int) -> list[int]:
        """``first`` and up to ``limit - 1`` other mails stored and never tried yet, oldest first: what one
        job processes as a batch (mails being retried keep their own job and backoff)."""
        async with self.runtime.sessions() as session:
            others = await session.scalars(
                select(InboundMail.id)
                .where(InboundMail.status == InboundStatus.PENDING.value, InboundMail.attempts == 0,
                       InboundMail.id != first)
                .order_by(InboundMail.id)
                .limit(max(0, limit - 1))
            )  # fmt: skip
            return sorted({first, *others})

    def _fallback_charsets(self) -> list[str]:
        return [c.strip() for c in self.runtime.settings.mail_fallback_charsets.split(",") if c.strip()]

    async def _lookups(self, session: AsyncSession, mails: Sequence[ParsedMail]) -> _Lookups:
        """Everything the batch reads before it writes, in a few set-based queries."""
        settings = self.runtime.settings
        now = self.runtime.clock.now()
        lookups = _Lookups(
            auto_since=now - timedelta(minutes=settings.mail_auto_reply_window_minutes),
            day_since=now - timedelta(days=1),
        )
        own_ids = [m.message_id[:255] for m in mails if m.message_id and not m.bounce]
        for chunk in _chunks(own_ids):
            lookups.ours.update(
                await session.scalars(
                    select(OutgoingMail.message_id).where(OutgoingMail.message_id.in_(chunk))
                )
            )
        thread_ids: dict[str, None] = {}
        for mail in mails:
            report = mail.bounce_report
            if mail.bounce:
                ids = wanted_ids(report.original_message_id if report else None,
                                 report.original_references if report else mail.references)  # fmt: skip
            else:
                ids = wanted_ids(mail.in_reply_to, mail.references)
            thread_ids.update(dict.fromkeys([*ids, *wanted_ids(mail.message_id, [])]))
        for chunk in _chunks(list(thread_ids)):
            lookups.known.update(await tickets_for_ids(session, chunk))
        senders: dict[str, str | None] = {}
        for mail in mails:
            if self._refusal(mail, lookups) is None and not mail.bounce:
                assert mail.from_address is not None
                address = normalise_email(db_text(mail.from_address))
                senders[address] = senders.get(address) or db_text(mail.from_name) or None
        if not senders:
            return lookups
        lookups.customers = await find_or_create_customers(session, now, senders)
        await session.flush()
        organisation_ids = {c.organisation_id for c in lookups.customers.values()} - {None}
        if organisation_ids:
            rows = await session.execute(
                select(Organisation.id, Organisation.shares_tickets).where(
                    Organisation.id.in_(organisation_ids)
                )
            )
            lookups.shares = {organisation_id: bool(shares) for organisation_id, shares in rows}
        acknowledged = func.count().filter(
            InboundMail.acknowledged.is_(True), InboundMail.received_at >= lookups.auto_since
        )
        new_tickets = func.count().filter(
            InboundMail.outcome == InboundOutcome.NEW_TICKET.value,
            InboundMail.received_at >= lookups.day_since,
        )
        for chunk in _chunks(list(lookups.customers)):
            counts = await session.execute(
                select(InboundMail.from_address, acknowledged, new_tickets)
                .where(InboundMail.from_address.in_(chunk),
                       InboundMail.received_at >= min(lookups.auto_since, lookups.day_since))
                .group_by(InboundMail.from_address)
            )  # fmt: skip
            for sender, acknowledged_count, new_ticket_count in counts:
                if sender is not None:
                    lookups.acknowledged[sender] = int(acknowledged_count or 0)
                    lookups.new_tickets[sender] = int(new_ticket_count or 0)
        return lookups

    def _refusal(self, mail: ParsedMail, lookups: _Lookups) -> str | None:
        """Why this mail must not become a ticket at all, or None."""
        if mail.unparseable:
            return f"unparseable: {'; '.join(mail.defects) or 'not a mail message'}"
        if not mail.from_address or "@" not in mail.from_address:
            return "no sender address"
        if mail.from_address.lower() in self.own:
            return f"sent from the help desk's own address {mail.from_address} (a mail loop)"
        if mail.message_id and not mail.bounce and mail.message_id[:255] in lookups.ours:
            return "the help desk's own outgoing mail came back (a mail loop)"
        return None

    async def _route(
        self, session: AsyncSession, lookups: _Lookups, item: _Claimed
    ) -> tuple[str, int | None]:
        """Write one mail's effects (in the caller's savepoint); returns its outcome and ticket id."""
        settings = self.runtime.settings
        inbound_id, mail = item.inbound_id, item.mail
        refusal = self._refusal(mail, lookups)
        if refusal is not None:
            return await self._flag(session, inbound_id, refusal, mail), None
        if mail.bounce:
            report = mail.bounce_report
            in_reply_to = report.original_message_id if report else None
            references = report.original_references if report else mail.references
            match = await match_by_ids(
                session, in_reply_to, references, lookups.known_for(in_reply_to, references)
            )
            return await self._bounce(session, inbound_id, mail, match.ticket_id if match else None)
        assert mail.from_address is not None
        customer = lookups.customers[normalise_email(db_text(mail.from_address))]
        if not mail.auto_submitted:
            clear_bouncing(customer)
        shares = lookups.shares.get(customer.organisation_id or 0, False)
        placement = await place_mail(
            session,
            in_reply_to=mail.in_reply_to,
            references=mail.references,
            subject=mail.subject,
            customer=customer,
            shares_organisation=shares,
            prefix=settings.ticket_prefix,
            fallback_days=settings.mail_thread_fallback_days,
            now=self.runtime.clock.now(),
            known=lookups.known_for(mail.in_reply_to, mail.references),
        )
        over_auto_cap = lookups.acknowledged[customer.email] >= settings.mail_auto_reply_cap
        over_ticket_cap = lookups.new_tickets[customer.email] >= settings.mail_new_ticket_cap_per_day
        recorder = Recorder(self.runtime, inbound_id, mail, customer, self.own)
        if placement.match is not None:
            return await self._into_ticket(session, recorder, placement, customer, shares)
        if mail.out_of_office:
            reason = "automatic reply that belongs to no known ticket"
            return await self._flag(session, inbound_id, reason, mail), None
        if over_ticket_cap:
            cap = settings.mail_new_ticket_cap_per_day
            reason = f"over the cap of {cap} new tickets per sender and day"
            return await self._flag(session, inbound_id, reason, mail), None
        acknowledge = not mail.auto_submitted and not over_auto_cap
        if not mail.auto_submitted and over_auto_cap:
            recorder.note(
                f"not acknowledged: over the cap of {settings.mail_auto_reply_cap} automatic replies per "
                f"{settings.mail_auto_reply_window_minutes} minutes to this sender"
            )
        ticket, _ = await self.tickets.open_in(
            session,
            _principal(customer, shares),
            TicketCreate(subject=db_text(mail.subject) or NO_SUBJECT, description=_text(mail.body_text)),
            channel=Channel.EMAIL,
            body_html=recorder.full_html(),
            acknowledge=acknowledge,
            within=recorder.hook(InboundOutcome.NEW_TICKET, acknowledged=acknowledge),
        )
        item.acknowledged = acknowledge
        return InboundOutcome.NEW_TICKET.value, ticket.id

    async def _into_ticket(
        self,
        session: AsyncSession,
        recorder: Recorder,
        placement: Placement,
        customer: Customer,
        shares: bool,
    ) -> tuple[str, int]:
        mail = recorder.mail
        assert placement.match is not None
        ticket_id = placement.match.ticket_id
        if mail.auto_submitted or placement.participant:
            label = (
                "automatic reply"
                if mail.auto_submitted
                else f"reply from {customer.email}, copied on the thread"
            )
            ticket, _ = await self.tickets.add_system_message_in(
                session,
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
            ticket, _ = await self.tickets.add_message_in(
                session,
                _principal(customer, shares),
                ticket_id,
                MessageCreate(body=_text(mail.reply_text or mail.body_text)),
                channel=Channel.EMAIL,
                body_html=recorder.full_html(),
                within=recorder.hook(InboundOutcome.REPLY, matched_ticket_id=ticket_id),
            )
        return str(recorder.outcome), ticket.id

    async def _bounce(
        self, session: AsyncSession, inbound_id: int, mail: ParsedMail, ticket_id: int | None
    ) -> tuple[str, int | None]:
        if ticket_id is None:
            reason = "delivery failure report for a message the help desk does not know"
            return await self._flag(session, inbound_id, reason, mail), None
        recorder = Recorder(self.runtime, inbound_id, mail, None, self.own)
        report = mail.bounce_report
        failed = ", ".join(r.address for r in report.recipients) if report else ""
        await self.tickets.add_system_message_in(
            session,
            ticket_id,
            body=_text(f"[delivery failure] {mail.subject}\n{failed}\n\n{mail.body_text}"),
            body_html=recorder.full_html(),
            channel=Channel.EMAIL,
            within=recorder.hook(InboundOutcome.BOUNCE, bounced=True),
        )
        return InboundOutcome.BOUNCE.value, ticket_id

    async def flag(self, inbound_id: int, reason: str, mail: ParsedMail | None = None) -> str:
        """Keep the mail stored, not turned into a ticket, with a reason a person can read.
        A flagged bounce still marks its failed recipients as bouncing."""
        async with transaction(self.runtime.sessions) as session:
            return await self._flag(session, inbound_id, reason, mail)

    async def _flag(
        self, session: AsyncSession, inbound_id: int, reason: str, mail: ParsedMail | None
    ) -> str:
        now = self.runtime.clock.now()
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

    async def _record_failure(
        self, session: AsyncSession, inbound_id: int, error: Exception, *, final: bool
    ) -> None:
        detail = error.detail if isinstance(error, DomainError) else f"{type(error).__name__}: {error}"
        values: dict[str, Any] = {"flag_reason": db_text(f"processing failed: {detail}")[:2000]}
        if final:
            values.update(status=InboundStatus.FAILED.value, processed_at=self.runtime.clock.now())
        await session.execute(
            update(InboundMail)
            .where(InboundMail.id == inbound_id, InboundMail.status == InboundStatus.PENDING.value)
            .values(**values)
        )


@dataclass
class _Claimed:
    """A mail of a batch: parsed, with its attempt count, and whether processing acknowledged it."""

    inbound_id: int
    mail: ParsedMail
    attempts: int
    received_at: datetime
    acknowledged: bool = False


@dataclass
class _Lookups:
    """What a batch knows before its first write, kept current as each mail commits."""

    auto_since: datetime
    day_since: datetime
    known: dict[str, int] = field(default_factory=dict)  # Message-ID → ticket, received or sent
    ours: set[str] = field(default_factory=set)  # Message-IDs of the help desk's own mail in this batch
    customers: dict[str, Customer] = field(default_factory=dict)  # by normalised address
    shares: dict[int, bool] = field(default_factory=dict)  # organisation id → shares tickets
    acknowledged: Counter[str] = field(default_factory=Counter)  # per sender, in the auto-reply window
    new_tickets: Counter[str] = field(default_factory=Counter)  # per sender, in the last day

    def known_for(self, in_reply_to: str | None, references: Sequence[str]) -> dict[str, int]:
        """The part of ``known`` that one mail's threading may use (its own ids, as looked up alone)."""
        return {m: self.known[m] for m in wanted_ids(in_reply_to, references) if m in self.known}

    def after(self, item: _Claimed, outcome: str, ticket_id: int | None, settings: Settings) -> None:
        """Account for a mail that committed, as the next mail's queries would have seen it."""
        message_id = item.mail.message_id
        if ticket_id is not None and message_id and len(message_id) <= 255:
            self.known.setdefault(message_id, ticket_id)
        sender = db_text((item.mail.from_address or "").lower()[:320])
        if item.acknowledged and item.received_at >= self.auto_since:
            self.acknowledged[sender] += 1
        if outcome == InboundOutcome.NEW_TICKET and item.received_at >= self.day_since:
            self.new_tickets[sender] += 1


def _chunks(values: list[str], size: int = 500) -> list[list[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def _principal(customer: Customer, shares: bool) -> Principal:
    return Principal(
        customer_id=customer.id,
        organisation_id=customer.organisation_id,
        organisation_shares=shares,
        name=customer.name or customer.email,
    )


def _text(text: str) -> str:
    return db_text(text).strip()[:100_000] or EMPTY_BODY
