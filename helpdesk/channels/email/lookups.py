"""What a batch of inbound mail reads before it writes, in a few set-based queries, and the rules that need
nothing else: which mail must not become a ticket at all, and how a sender acts on a ticket."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Result, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.channels.email.models import InboundMail, InboundOutcome
from helpdesk.channels.email.parser import ParsedMail, with_reply
from helpdesk.channels.email.recording import db_text
from helpdesk.channels.email.threading import wanted_ids
from helpdesk.core.principal import Principal
from helpdesk.core.settings import Settings
from helpdesk.customers.models import Customer, Organisation
from helpdesk.customers.service import find_or_create_customers, normalise_email
from helpdesk.notifications.models import MailReference, OutgoingMail

NO_SUBJECT = "(no subject)"
EMPTY_BODY = "(empty message)"


@dataclass
class Claimed:
    """A mail of a batch: parsed, with its attempt count, and whether processing acknowledged it.

    ``reply`` strips the reply from the mail's text when first asked (:meth:`reply_text`): only mail added
    to a ticket needs it, and it is half the parse.
    """

    inbound_id: int
    mail: ParsedMail
    attempts: int
    received_at: datetime
    acknowledged: bool = False
    reply: Callable[[], str] | None = None

    def reply_text(self) -> str:
        """The new part of the mail (see ``ParsedMail.reply_text``). Raises ``ValueError`` when stripping
        it fails (the mail is then unparseable, as ``parse_message`` would have said)."""
        self.complete()
        if self.mail.unparseable:
            raise ValueError(f"inbound mail {self.inbound_id}: {'; '.join(self.mail.defects)}")
        return self.mail.reply_text

    def complete(self) -> None:
        """Make ``mail`` what ``parse_message`` returns (its reply stripped)."""
        if self.reply is not None:
            self.mail, self.reply = with_reply(self.mail, self.reply), None


@dataclass
class Lookups:
    """What a batch knows before its first write, kept current as each mail is decided."""

    auto_since: datetime
    day_since: datetime
    known: dict[str, int] = field(default_factory=dict)  # Message-ID → ticket, received or sent
    ours: set[str] = field(default_factory=set)  # Message-IDs of the help desk's own mail in this batch
    mapped: set[str] = field(default_factory=set)  # Message-IDs already in the received map
    customers: dict[str, Customer] = field(default_factory=dict)  # by normalised address
    shares: dict[int, bool] = field(default_factory=dict)  # organisation id → shares tickets
    acknowledged: Counter[str] = field(default_factory=Counter)  # per sender, in the auto-reply window
    new_tickets: Counter[str] = field(default_factory=Counter)  # per sender, in the last day

    def known_for(self, in_reply_to: str | None, references: Sequence[str]) -> dict[str, int]:
        """The part of ``known`` that one mail's threading may use (its own ids, as looked up alone)."""
        return {m: self.known[m] for m in wanted_ids(in_reply_to, references) if m in self.known}

    def after(self, item: Claimed, outcome: str, ticket_id: int | None) -> None:
        """Account for a mail that was decided, as the next mail's queries would have seen it."""
        message_id = item.mail.message_id
        if ticket_id is not None and message_id and len(message_id) <= 255:
            self.known.setdefault(message_id, ticket_id)
            self.mapped.add(message_id)
        sender = db_text((item.mail.from_address or "").lower()[:320])
        if item.acknowledged and item.received_at >= self.auto_since:
            self.acknowledged[sender] += 1
        if outcome == InboundOutcome.NEW_TICKET and item.received_at >= self.day_since:
            self.new_tickets[sender] += 1


def own_addresses(settings: Settings) -> frozenset[str]:
    """The help desk's own addresses: mail from them is a loop, and they never become customers."""
    from email.utils import parseaddr

    listed = [a.strip().lower() for a in settings.mail_own_addresses.split(",") if a.strip()]
    return frozenset([*listed, parseaddr(settings.mail_from)[1].lower()]) - {""}


def refusal(mail: ParsedMail, lookups: Lookups, own: frozenset[str]) -> str | None:
    """Why this mail must not become a ticket at all, or None."""
    if mail.unparseable:
        return f"unparseable: {'; '.join(mail.defects) or 'not a mail message'}"
    if not mail.from_address or "@" not in mail.from_address:
        return "no sender address"
    if mail.from_address.lower() in own:
        return f"sent from the help desk's own address {mail.from_address} (a mail loop)"
    if mail.message_id and not mail.bounce and mail.message_id[:255] in lookups.ours:
        return "the help desk's own outgoing mail came back (a mail loop)"
    return None


def bounce_ids(mail: ParsedMail) -> tuple[str | None, list[str]]:
    """In-Reply-To and References that thread a delivery failure: those of the RETURNED message."""
    report = mail.bounce_report
    in_reply_to = report.original_message_id if report else None
    return in_reply_to, report.original_references if report else mail.references


def sender_of(mail: ParsedMail) -> str:
    """The sender as the caps count it and the raw row stores it."""
    return db_text((mail.from_address or "").lower()[:320])


def principal_of(customer: Customer, shares: bool) -> Principal:
    return Principal(
        customer_id=customer.id,
        organisation_id=customer.organisation_id,
        organisation_shares=shares,
        name=customer.name or customer.email,
    )


def body_text(text: str) -> str:
    return db_text(text).strip()[:100_000] or EMPTY_BODY


def chunks(values: list[str], size: int = 500) -> list[list[str]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


async def load_lookups(
    session: AsyncSession, mails: Sequence[ParsedMail], settings: Settings, own: frozenset[str], now: datetime
) -> Lookups:
    """Everything the batch reads before it writes, in a few set-based queries."""
    lookups = Lookups(
        auto_since=now - timedelta(minutes=settings.mail_auto_reply_window_minutes),
        day_since=now - timedelta(days=1),
    )
    own_ids = {m.message_id for m in mails if m.message_id and not m.bounce and len(m.message_id) <= 255}
    thread_ids: dict[str, None] = {}
    for mail in mails:
        ids = wanted_ids(*bounce_ids(mail)) if mail.bounce else wanted_ids(mail.in_reply_to, mail.references)
        thread_ids.update(dict.fromkeys([*ids, *wanted_ids(mail.message_id, [])]))
    for chunk in chunks(list(thread_ids)):
        await _look_up_ids(session, chunk, own_ids, lookups)
    senders: dict[str, str | None] = {}
    for mail in mails:
        if refusal(mail, lookups, own) is None and not mail.bounce:
            address = normalise_email(db_text(mail.from_address or ""))
            senders[address] = senders.get(address) or db_text(mail.from_name) or None
    if not senders:
        return lookups
    lookups.customers = await find_or_create_customers(session, now, senders)
    await session.flush()
    organisation_ids = {c.organisation_id for c in lookups.customers.values()} - {None}
    if organisation_ids:
        rows = await session.execute(
            select(Organisation.id, Organisation.shares_tickets).where(Organisation.id.in_(organisation_ids))
        )
        lookups.shares = {organisation_id: bool(shares) for organisation_id, shares in rows}
    acknowledged = func.count().filter(
        InboundMail.acknowledged.is_(True), InboundMail.received_at >= lookups.auto_since
    )
    new_tickets = func.count().filter(
        InboundMail.outcome == InboundOutcome.NEW_TICKET.value, InboundMail.received_at >= lookups.day_since
    )
    for chunk in chunks(list(lookups.customers)):
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


async def _look_up_ids(session: AsyncSession, ids: list[str], own_ids: set[str], lookups: Lookups) -> None:
    """One query over both maps: Message-ID → ticket for threading (the help desk's own mail first), the
    batch's own ids the help desk sent (a loop), and the ids already mapped."""
    rows: Result[str, int, bool] = await session.execute(
        union_all(
            select(OutgoingMail.message_id, OutgoingMail.ticket_id, literal(True)).where(
                OutgoingMail.message_id.in_(ids)
            ),
            select(MailReference.message_id, MailReference.ticket_id, literal(False)).where(
                MailReference.message_id.in_(ids)
            ),
        )
    )
    received: dict[str, int] = {}
    for message_id, ticket_id, sent in rows:
        if sent:
            if message_id in own_ids:
                lookups.ours.add(message_id)
            if ticket_id is not None:
                lookups.known[message_id] = ticket_id
        else:
            lookups.mapped.add(message_id)
            received[message_id] = ticket_id
    for message_id, ticket_id in received.items():
        lookups.known.setdefault(message_id, ticket_id)
