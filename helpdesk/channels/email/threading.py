"""Which ticket does an inbound mail belong to? Read-only lookups, in the order the issue asks for.

1. In-Reply-To, then References (newest first), against every Message-ID the help desk has received
   (``MailReference``) or sent (``OutgoingMail.message_id``);
2. the ``[HD-123]`` tag in the subject, accepted only from someone who may see that ticket (a tag is easy
   to type, so it must not let a stranger write into another customer's ticket);
3. the fallback: a reply-looking subject (``Re:``, ``AW:``, ``Ответ:`` …) from the same customer that
   matches one of their tickets' normalised subjects, created within ``mail_thread_fallback_days``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import NamedTuple, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.channels.email.headers import clean_header_text, find_ticket_number, normalize_subject
from helpdesk.channels.email.models import InboundRecipient
from helpdesk.customers.models import Customer
from helpdesk.notifications.models import MailReference, OutgoingMail
from helpdesk.tickets.models import Ticket

# How many of a customer's newest tickets the fallback compares subjects with.
FALLBACK_CANDIDATES = 20


class ThreadMatch(NamedTuple):
    ticket_id: int
    how: str  # "in-reply-to", "references", "subject-tag", "fallback"


async def tickets_for_ids(session: AsyncSession, message_ids: Sequence[str]) -> dict[str, int]:
    """Message-ID → ticket id for every id the help desk has received or sent (two indexed lookups)."""
    wanted = [m for m in dict.fromkeys(message_ids) if m and len(m) <= 255]
    if not wanted:
        return {}
    found: dict[str, int] = {}
    rows = await session.execute(
        select(OutgoingMail.message_id, OutgoingMail.ticket_id).where(OutgoingMail.message_id.in_(wanted))
    )
    for message_id, ticket_id in rows:
        if ticket_id is not None:
            found[message_id] = ticket_id
    references = await session.execute(
        select(MailReference.message_id, MailReference.ticket_id).where(MailReference.message_id.in_(wanted))
    )
    for message_id, reference_ticket_id in references:
        found.setdefault(message_id, reference_ticket_id)
    return found


def wanted_ids(in_reply_to: str | None, references: Sequence[str]) -> list[str]:
    """The ids of one mail that threading looks up (at most 100, so a hostile References costs little)."""
    ids = [*([in_reply_to] if in_reply_to else []), *references]
    return [m for m in dict.fromkeys(ids) if m and len(m) <= 255][:100]


async def match_by_ids(
    session: AsyncSession,
    in_reply_to: str | None,
    references: Sequence[str],
    known: Mapping[str, int] | None = None,
) -> ThreadMatch | None:
    """The ticket of In-Reply-To, else of the newest known id in References. ``known`` is the result of
    :func:`tickets_for_ids` for these ids when the caller looked them up already (a batch of mails)."""
    if known is None:
        known = await tickets_for_ids(session, wanted_ids(in_reply_to, references))
    return match_known(in_reply_to, references, known)


def match_known(
    in_reply_to: str | None, references: Sequence[str], known: Mapping[str, int]
) -> ThreadMatch | None:
    """The ticket of In-Reply-To, else of the newest id in References, among ``known`` ids. Pure."""
    if in_reply_to and in_reply_to in known:
        return ThreadMatch(known[in_reply_to], "in-reply-to")
    for message_id in reversed(references):
        if message_id in known:
            return ThreadMatch(known[message_id], "references")
    return None


class OwnedTicket(Protocol):
    @property
    def customer_id(self) -> int: ...
    @property
    def organisation_id(self) -> int | None: ...


def may_write_to(customer: Customer, shares_organisation: bool, ticket: OwnedTicket) -> bool:
    """The ticket's own customer, or a member of its organisation when the organisation shares tickets."""
    if ticket.customer_id == customer.id:
        return True
    return (
        shares_organisation
        and customer.organisation_id is not None
        and ticket.organisation_id == customer.organisation_id
    )


async def was_copied(session: AsyncSession, ticket_id: int, address: str) -> bool:
    """Whether ``address`` was a To/Cc recipient of mail on this ticket (a colleague copied on the thread)."""
    found = await session.scalar(
        select(InboundRecipient.address)
        .where(InboundRecipient.ticket_id == ticket_id, InboundRecipient.address == address)
        .limit(1)
    )
    return found is not None


async def match_by_subject_tag(
    session: AsyncSession, subject: str, prefix: str, customer: Customer, shares_organisation: bool
) -> ThreadMatch | None:
    number = find_ticket_number(subject, prefix)
    if number is None:
        return None
    ticket = await session.get(Ticket, number)
    if ticket is None or not may_write_to(customer, shares_organisation, ticket):
        return None
    return ThreadMatch(ticket.id, "subject-tag")


def looks_like_reply(subject: str, prefix: str) -> bool:
    """True when the subject carries a reply/forward prefix that normalisation removed."""
    cleaned = clean_header_text(subject).casefold()
    normalised = normalize_subject(subject, tag_prefix=prefix)
    return bool(normalised) and not cleaned.startswith(normalised)


async def match_by_fallback(
    session: AsyncSession, subject: str, prefix: str, customer_id: int, now: datetime, days: int
) -> ThreadMatch | None:
    key = fallback_key(subject, prefix, days)
    if key is None:
        return None
    rows = await session.execute(
        select(Ticket.id, Ticket.subject)
        .where(Ticket.customer_id == customer_id, Ticket.created_at >= now - timedelta(days=days))
        .order_by(Ticket.id.desc())
        .limit(FALLBACK_CANDIDATES)
    )
    return match_fallback(key, prefix, [(ticket_id, subject) for ticket_id, subject in rows])


def fallback_key(subject: str, prefix: str, days: int) -> str | None:
    """The normalised subject the fallback looks for, or None when the fallback does not apply (it is off,
    or the subject does not look like a reply). Pure."""
    if days <= 0 or not looks_like_reply(subject, prefix):
        return None
    return normalize_subject(subject, tag_prefix=prefix)


def match_fallback(key: str, prefix: str, candidates: Sequence[tuple[int, str]]) -> ThreadMatch | None:
    """The first of the customer's recent tickets, as (id, subject) newest first, whose normalised subject
    is ``key``. Pure."""
    for ticket_id, ticket_subject in candidates[:FALLBACK_CANDIDATES]:
        if normalize_subject(ticket_subject, tag_prefix=prefix) == key:
            return ThreadMatch(ticket_id, "fallback")
    return None


class Placement(NamedTuple):
    """Where a mail from ``customer`` goes: a ticket (``match``) they may write to as themselves, or a
    ticket they were copied on (``participant``: kept as a note, since they cannot see the ticket)."""

    match: ThreadMatch | None
    participant: bool = False


async def place_mail(
    session: AsyncSession,
    *,
    in_reply_to: str | None,
    references: Sequence[str],
    subject: str,
    customer: Customer,
    shares_organisation: bool,
    prefix: str,
    fallback_days: int,
    now: datetime,
    known: Mapping[str, int] | None = None,
) -> Placement:
    """Thread a mail by ids, then subject tag, then fallback (see the module docstring). ``known``: see
    :func:`match_by_ids`."""
    by_ids = await match_by_ids(session, in_reply_to, references, known)
    if by_ids is not None:
        ticket = await session.get(Ticket, by_ids.ticket_id)
        if ticket is not None and may_write_to(customer, shares_organisation, ticket):
            return Placement(by_ids)
        if ticket is not None and await was_copied(session, ticket.id, customer.email):
            return Placement(by_ids, participant=True)
    by_tag = await match_by_subject_tag(session, subject, prefix, customer, shares_organisation)
    if by_tag is not None:
        return Placement(by_tag)
    return Placement(await match_by_fallback(session, subject, prefix, customer.id, now, fallback_days))
