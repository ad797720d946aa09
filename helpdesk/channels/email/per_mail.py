"""The one-by-one path: each mail of a batch in its own savepoint, written through the ticket service.

The batched path (:mod:`routing`, :mod:`bulk_write`) writes a whole batch with a few statements; this path
is its fallback when that write fails, and what a mail whose deciding failed goes through: a mail that
fails here is rolled back alone and recorded (``retry``, or ``failed`` after ``MAX_ATTEMPTS``) while the
others commit. Both paths decide the same way.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.channels.email.lookups import (
    NO_SUBJECT,
    Claimed,
    Lookups,
    body_text,
    bounce_ids,
    load_lookups,
    principal_of,
    refusal,
)
from helpdesk.channels.email.models import InboundMail, InboundOutcome, InboundStatus
from helpdesk.channels.email.parser import ParsedMail
from helpdesk.channels.email.recording import AlreadyProcessed, Recorder, db_text
from helpdesk.channels.email.threading import Placement, match_by_ids, place_mail
from helpdesk.core.db import transaction
from helpdesk.core.errors import DomainError
from helpdesk.customers.models import Customer
from helpdesk.customers.service import clear_bouncing, mark_bouncing, normalise_email
from helpdesk.runtime import Runtime
from helpdesk.tickets.rules import Channel
from helpdesk.tickets.schemas import MessageCreate, TicketCreate
from helpdesk.tickets.service import TicketService

log = logging.getLogger(__name__)

# Attempts before a mail whose processing keeps failing is marked failed for a person to look at.
MAX_ATTEMPTS = 5


class PerMailProcessor:
    def __init__(self, runtime: Runtime, tickets: TicketService, own: frozenset[str]) -> None:
        self.runtime = runtime
        self.tickets = tickets
        self.own = own

    async def process(self, batch: Sequence[Claimed], announce: dict[str, list[int]]) -> dict[int, str]:
        """Process claimed mails in one transaction, a savepoint each; should that transaction fail, each
        mail alone. Returns each mail's outcome; the caller announces the tickets."""
        for item in batch:
            item.complete()
        outcomes: dict[int, str] = {}
        try:
            async with self.runtime.transaction() as session:  # queues the mail's jobs once committed
                now = self.runtime.clock.now()
                mails = [item.mail for item in batch]
                lookups = await load_lookups(session, mails, self.runtime.settings, self.own, now)
                for item in batch:
                    outcomes[item.inbound_id] = await self._one(session, lookups, item, announce)
        except Exception:
            if len(batch) == 1:
                return {batch[0].inbound_id: await self._failed_alone(batch[0])}
            log.exception("a batch of %d inbound mails failed; processing them one by one", len(batch))
            for item in batch:
                outcomes.update(await self.process([item], announce))
        return outcomes

    async def _one(
        self, session: AsyncSession, lookups: Lookups, item: Claimed, announce: dict[str, list[int]]
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
            await record_failure(self.runtime, session, item.inbound_id, error, final=final)
            return "failed" if final else "retry"
        lookups.after(item, outcome, ticket_id)
        if ticket_id is not None:
            announce["created" if outcome == InboundOutcome.NEW_TICKET else "updated"].append(ticket_id)
        return outcome

    async def _failed_alone(self, item: Claimed) -> str:
        log.exception("processing inbound mail %s failed (attempt %d)", item.inbound_id, item.attempts)
        final = item.attempts >= MAX_ATTEMPTS
        raised = sys.exc_info()[1]
        error = raised if isinstance(raised, Exception) else Exception("unknown failure")
        try:
            async with transaction(self.runtime.sessions) as session:
                await record_failure(self.runtime, session, item.inbound_id, error, final=final)
        except Exception:  # the database is away: the job is retried and tries again
            log.exception("recording the failure of inbound mail %s failed", item.inbound_id)
            return "retry"
        return "failed" if final else "retry"

    async def _route(self, session: AsyncSession, lookups: Lookups, item: Claimed) -> tuple[str, int | None]:
        """Write one mail's effects (in the caller's savepoint); returns its outcome and ticket id."""
        settings = self.runtime.settings
        inbound_id, mail = item.inbound_id, item.mail
        refused = refusal(mail, lookups, self.own)
        if refused is not None:
            return await flag(self.runtime, session, inbound_id, refused, mail), None
        if mail.bounce:
            in_reply_to, references = bounce_ids(mail)
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
            return await flag(self.runtime, session, inbound_id, reason, mail), None
        if over_ticket_cap:
            cap = settings.mail_new_ticket_cap_per_day
            reason = f"over the cap of {cap} new tickets per sender and day"
            return await flag(self.runtime, session, inbound_id, reason, mail), None
        acknowledge = not mail.auto_submitted and not over_auto_cap
        if not mail.auto_submitted and over_auto_cap:
            recorder.note(over_auto_cap_note(self.runtime))
        ticket, _ = await self.tickets.open_in(
            session,
            principal_of(customer, shares),
            TicketCreate(subject=db_text(mail.subject) or NO_SUBJECT, description=body_text(mail.body_text)),
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
            ticket, _ = await self.tickets.add_system_message_in(
                session,
                ticket_id,
                body=body_text(
                    f"[{note_label(mail, customer)}] {mail.subject}\n\n{mail.reply_text or mail.body_text}"
                ),
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
                principal_of(customer, shares),
                ticket_id,
                MessageCreate(body=body_text(mail.reply_text or mail.body_text)),
                channel=Channel.EMAIL,
                body_html=recorder.full_html(),
                within=recorder.hook(InboundOutcome.REPLY, matched_ticket_id=ticket_id),
            )
        return str(recorder.outcome), ticket.id

    async def _bounce(
        self, session: AsyncSession, inbound_id: int, mail: ParsedMail, ticket_id: int | None
    ) -> tuple[str, int | None]:
        if ticket_id is None:
            return await flag(self.runtime, session, inbound_id, UNKNOWN_BOUNCE, mail), None
        recorder = Recorder(self.runtime, inbound_id, mail, None, self.own)
        await self.tickets.add_system_message_in(
            session,
            ticket_id,
            body=bounce_note(mail),
            body_html=recorder.full_html(),
            channel=Channel.EMAIL,
            within=recorder.hook(InboundOutcome.BOUNCE, bounced=True),
        )
        return InboundOutcome.BOUNCE.value, ticket_id


UNKNOWN_BOUNCE = "delivery failure report for a message the help desk does not know"


def bounce_note(mail: ParsedMail) -> str:
    """The internal note a delivery failure becomes on the ticket of the returned message."""
    report = mail.bounce_report
    failed = ", ".join(r.address for r in report.recipients) if report else ""
    return body_text(f"[delivery failure] {mail.subject}\n{failed}\n\n{mail.body_text}")


def note_label(mail: ParsedMail, customer: Customer) -> str:
    """How a mail kept as a note (not the customer answering) is labelled."""
    return "automatic reply" if mail.auto_submitted else f"reply from {customer.email}, copied on the thread"


def over_auto_cap_note(runtime: Runtime) -> str:
    settings = runtime.settings
    return (
        f"not acknowledged: over the cap of {settings.mail_auto_reply_cap} automatic replies per "
        f"{settings.mail_auto_reply_window_minutes} minutes to this sender"
    )


async def flag(
    runtime: Runtime, session: AsyncSession, inbound_id: int, reason: str, mail: ParsedMail | None
) -> str:
    """Keep the mail stored, not turned into a ticket, with a reason a person can read; a flagged bounce
    still marks its failed recipients as bouncing. Returns ``flagged``, or ``skipped`` when not pending."""
    now = runtime.clock.now()
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


def failure_reason(error: Exception) -> str:
    detail = error.detail if isinstance(error, DomainError) else f"{type(error).__name__}: {error}"
    return db_text(f"processing failed: {detail}")[:2000]


async def record_failure(
    runtime: Runtime, session: AsyncSession, inbound_id: int, error: Exception, *, final: bool
) -> None:
    values: dict[str, Any] = {"flag_reason": failure_reason(error)}
    if final:
        values.update(status=InboundStatus.FAILED.value, processed_at=runtime.clock.now())
    await session.execute(
        update(InboundMail)
        .where(InboundMail.id == inbound_id, InboundMail.status == InboundStatus.PENDING.value)
        .values(**values)
    )
