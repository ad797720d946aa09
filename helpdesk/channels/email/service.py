"""Inbound mail: store the raw message first, then turn it into a ticket, a reply, a note or a flag.

Guarantees:
- nothing is dropped: every mail is stored raw before it is parsed, and a mail that cannot be (or must
  not be) turned into a ticket stays stored with ``status = flagged`` and a readable ``flag_reason``;
- exactly once: the ticket message, its attachments, the Message-ID map, the recipients and the row's
  ``processed`` status commit in ONE transaction, which holds the raw rows locked and writes only those
  still pending, so a retried, duplicated or crashed-and-restarted job never writes twice;
- no loops: machine-made mail is never answered, and automatic answers per sender are capped.

Decisions: a bounce is kept as an internal note on the ticket of the returned message and never reopens
it; an automatic reply (out-of-office and other auto-submitted mail) that threads to a ticket is kept the
same way (it is not the customer answering, so it neither reopens the ticket nor restarts SLA clocks); an
out-of-office reply that threads nowhere is flagged; other auto-submitted mail (alerts, noreply senders)
opens a ticket without an acknowledgement.

Two paths decide the same way: the batched one (:mod:`routing` decides every mail in memory, in order;
:mod:`bulk_write` and :mod:`helpdesk.tickets.bulk` write the batch with a few multi-row statements), and
the one-by-one path (:mod:`per_mail`: a savepoint per mail, through the ticket service), which takes a mail
whose deciding failed, and the whole batch when its write failed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Table, select, update

from helpdesk.channels.email.bulk_write import load_view, lock_pending, write_decisions
from helpdesk.channels.email.lookups import Claimed, load_lookups, own_addresses
from helpdesk.channels.email.models import InboundMail, InboundSource, InboundStatus
from helpdesk.channels.email.parser import ParsedMail, parse_deferring_reply
from helpdesk.channels.email.per_mail import MAX_ATTEMPTS, PerMailProcessor, flag, over_auto_cap_note
from helpdesk.channels.email.routing import MailDecision, RoutingRules, account, decide
from helpdesk.channels.email.store import StoredMail, store_raw
from helpdesk.core import live
from helpdesk.core.db import transaction
from helpdesk.core.errors import TooLarge
from helpdesk.core.outbox import add_outbox_job
from helpdesk.core.transient import is_transient
from helpdesk.runtime import Runtime
from helpdesk.tickets.service import TicketService

__all__ = ["BATCH_SIZE", "MAX_ATTEMPTS", "PROCESS_JOB", "MailService", "own_addresses"]

log = logging.getLogger(__name__)

PROCESS_JOB = "process_inbound_mail_job"
# Mails one job processes in one transaction when several are waiting.
BATCH_SIZE = 100


class MailService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.tickets = TicketService(runtime)
        self.own = own_addresses(runtime.settings)
        self.one_by_one = PerMailProcessor(runtime, self.tickets, self.own)

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
        async with self.runtime.transaction() as session:  # queues the processing job once committed
            stored = await store_raw(session, now, raw, source, mailbox=mailbox)
            if stored.created and enqueue:
                add_outbox_job(session, now, PROCESS_JOB, stored.id)
        return stored

    async def process(self, inbound_id: int) -> str:
        """Process one stored mail unless it was processed already; returns what happened: an
        ``InboundOutcome`` value, ``flagged``, ``skipped`` (not pending, or another run won), ``retry`` (the
        job should run again) or ``failed`` (after ``MAX_ATTEMPTS``). Never raises for bad mail; a database
        that went away raises (the job retries)."""
        outcomes = await self.process_batch([inbound_id])
        return outcomes[inbound_id]

    async def process_batch(self, inbound_ids: Sequence[int]) -> dict[int, str]:
        """Process many stored mails in one transaction; returns each id's outcome (as :meth:`process`).

        The batched path: the batch's lookups are a few set-based queries; every mail is then decided in
        memory, in order (a reply threads to a ticket opened earlier in the same batch), and the decisions
        are written with a few multi-row statements. A mail whose deciding fails is left out and goes
        through the one-by-one path afterwards, where it is rolled back alone and recorded (``retry``, or
        ``failed`` after ``MAX_ATTEMPTS``); should the batched write fail, every mail goes that way.
        """
        claimed = await self._claim(inbound_ids)
        outcomes = dict.fromkeys(inbound_ids, "skipped")
        if not claimed:
            return outcomes
        charsets = self._fallback_charsets()
        limit = self.runtime.settings.max_attachment_bytes
        batch = []
        for inbound_id, (raw, attempts, received_at) in claimed.items():
            mail, reply = parse_deferring_reply(raw, fallback_charsets=charsets, max_attachment_bytes=limit)
            batch.append(Claimed(inbound_id, mail, attempts, received_at, reply=reply))
        announce: dict[str, list[int]] = {"created": [], "updated": []}
        try:
            written, left = await self._process_together(batch, announce)
        except Exception as error:
            if is_transient(error):
                raise
            log.exception(
                "writing a batch of %d inbound mails failed; processing them one by one", len(batch)
            )
            announce = {"created": [], "updated": []}
            written, left = {}, batch
        outcomes.update(written)
        if left:
            outcomes.update(await self.one_by_one.process(left, announce))
        for event, ticket_ids in announce.items():
            if ticket_ids:
                await live.announce(self.runtime, event, ticket_ids)
        return outcomes

    async def _process_together(
        self, batch: Sequence[Claimed], announce: dict[str, list[int]]
    ) -> tuple[dict[int, str], list[Claimed]]:
        """The batched path in one transaction; returns the outcomes written and the mails left to the
        one-by-one path (their deciding failed)."""
        settings = self.runtime.settings
        rules = RoutingRules(
            own=self.own,
            prefix=settings.ticket_prefix,
            fallback_days=settings.mail_thread_fallback_days,
            auto_reply_cap=settings.mail_auto_reply_cap,
            new_ticket_cap=settings.mail_new_ticket_cap_per_day,
            over_auto_cap_note=over_auto_cap_note(self.runtime),
        )
        left: list[Claimed] = []
        # Runtime.transaction queues the jobs of the batch's outbox rows once it has committed.
        async with self.runtime.transaction() as session:
            now = self.runtime.clock.now()
            pending = await lock_pending(session, [item.inbound_id for item in batch])
            items = [item for item in batch if item.inbound_id in pending]
            if not items:
                return {}, []
            lookups = await load_lookups(session, [item.mail for item in items], settings, self.own, now)
            view = await load_view(session, self.runtime, items, lookups, rules, now)
            decided: list[tuple[Claimed, MailDecision]] = []
            for item in items:
                savepoint = view.tickets.savepoint()
                try:
                    decision = decide(item, lookups, view, rules)
                except Exception:
                    log.exception("deciding inbound mail %s failed; it goes one by one", item.inbound_id)
                    view.tickets.rollback(savepoint)
                    left.append(item)
                    continue
                account(item, decision, lookups, view)
                decided.append((item, decision))
            written = await write_decisions(session, self.runtime, decided, view.tickets, announce)
        return written, left

    async def _claim(self, inbound_ids: Sequence[int]) -> dict[int, tuple[bytes, int, datetime]]:
        """Count an attempt for every pending mail of ``inbound_ids`` that no other run holds right now
        (one statement: ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING``)."""
        table = InboundMail.__table__
        assert isinstance(table, Table)
        claimable = (
            select(table.c.id)
            .where(table.c.id.in_(list(inbound_ids)), table.c.status == InboundStatus.PENDING.value)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        async with transaction(self.runtime.sessions) as session:
            rows = await session.execute(
                update(table)
                .where(table.c.id.in_(claimable))
                .values(attempts=table.c.attempts + 1)
                .returning(table.c.id, table.c.raw, table.c.attempts, table.c.received_at)
            )
            return {
                row_id: (raw, attempts, received_at) for row_id, raw, attempts, received_at in sorted(rows)
            }

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

    async def flag(self, inbound_id: int, reason: str, mail: ParsedMail | None = None) -> str:
        """Keep the mail stored, not turned into a ticket, with a reason a person can read.
        A flagged bounce still marks its failed recipients as bouncing."""
        async with transaction(self.runtime.sessions) as session:
            return await flag(self.runtime, session, inbound_id, reason, mail)

    def _fallback_charsets(self) -> list[str]:
        return [c.strip() for c in self.runtime.settings.mail_fallback_charsets.split(",") if c.strip()]
