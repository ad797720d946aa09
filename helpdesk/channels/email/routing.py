"""Deciding a batch of mail in memory: where each mail goes and what it leaves behind, before any write.

The same decisions as the one-by-one path (:mod:`per_mail`), in the same order, from what the batch read
up front (:class:`~helpdesk.channels.email.lookups.Lookups`, the tickets the mails may thread to, who was
copied on them, each sender's recent tickets) and what the mails decided before it (a reply threads to a
ticket opened earlier in the batch, a reply to a pending ticket reopens it for the next one too). The
ticket writes go into a :class:`~helpdesk.tickets.batch.TicketBatch`; what is the channel's own (the raw
row's status, the Message-ID map, recipients, bouncing addresses) goes into a :class:`MailDecision`. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from helpdesk.channels.email.headers import find_ticket_number
from helpdesk.channels.email.lookups import (
    NO_SUBJECT,
    Claimed,
    Lookups,
    body_text,
    bounce_ids,
    principal_of,
    refusal,
)
from helpdesk.channels.email.models import InboundOutcome
from helpdesk.channels.email.parser import ParsedMail
from helpdesk.channels.email.per_mail import UNKNOWN_BOUNCE, bounce_note, note_label
from helpdesk.channels.email.recording import MAIL_SYSTEM, db_text, full_html, recipients_of
from helpdesk.channels.email.threading import (
    Placement,
    ThreadMatch,
    fallback_key,
    match_fallback,
    match_known,
    may_write_to,
)
from helpdesk.core.principal import Principal
from helpdesk.customers.models import Customer
from helpdesk.customers.service import normalise_email
from helpdesk.tickets.batch import TicketBatch, TicketText
from helpdesk.tickets.rules import Channel

Note = str | TicketText


@dataclass
class MailDecision:
    """What one mail leaves behind besides its ticket writes."""

    outcome: str  # an InboundOutcome value, or "flagged"
    flag_reason: str | None = None
    ticket_key: int | None = None
    message_index: int | None = None
    acknowledged: bool = False
    notes: list[Note] = field(default_factory=list)
    recipients: list[tuple[str, str, str]] = field(default_factory=list)  # address, kind, name
    bounced: list[str] = field(default_factory=list)  # addresses to mark bouncing
    bounced_ticket_customer: bool = False  # a report without recipients: the ticket's customer bounced
    clears_bouncing: Customer | None = None  # the sender wrote, so their address works again


@dataclass(frozen=True)
class RoutingRules:
    own: frozenset[str]
    prefix: str
    fallback_days: int
    auto_reply_cap: int
    new_ticket_cap: int
    over_auto_cap_note: str


@dataclass
class BatchView:
    """What the batch read about tickets: ``copied`` holds (ticket key, address) of everyone a ticket's
    mail was addressed to; ``recent`` each sender's tickets of the fallback window, newest first."""

    tickets: TicketBatch
    copied: set[tuple[int, str]] = field(default_factory=set)
    recent: dict[int, list[tuple[int, str]]] = field(default_factory=dict)


def decide(item: Claimed, lookups: Lookups, view: BatchView, rules: RoutingRules) -> MailDecision:
    """Decide one mail: plan its ticket writes into ``view.tickets`` and return the rest. The caller undoes
    the plan (``TicketBatch.rollback``) when this raises, and calls :func:`account` when it does not."""
    mail = item.mail
    refused = refusal(mail, lookups, rules.own)
    if refused is not None:
        return _flagged(refused, mail)
    if mail.bounce:
        in_reply_to, references = bounce_ids(mail)
        match = match_known(in_reply_to, references, lookups.known_for(in_reply_to, references))
        if match is None:
            return _flagged(UNKNOWN_BOUNCE, mail)
        return _bounce(mail, match.ticket_id, view, rules)
    assert mail.from_address is not None
    customer = lookups.customers[normalise_email(db_text(mail.from_address))]
    shares = lookups.shares.get(customer.organisation_id or 0, False)
    placement = _place(mail, customer, shares, lookups, view, rules)
    decision = _placed(item, customer, shares, placement, lookups, view, rules)
    if not mail.auto_submitted:
        decision.clears_bouncing = customer
    return decision


def account(item: Claimed, decision: MailDecision, lookups: Lookups, view: BatchView) -> None:
    """What a decided mail changes for the mails after it: its Message-ID threads to its ticket, its
    recipients count as copied on that ticket, and the caps count it."""
    item.acknowledged = decision.acknowledged
    lookups.after(item, decision.outcome, decision.ticket_key)
    if decision.ticket_key is not None:
        view.copied.update((decision.ticket_key, address) for address, _, _ in decision.recipients)


def _flagged(reason: str, mail: ParsedMail) -> MailDecision:
    report = mail.bounce_report
    bounced = [r.address for r in report.recipients] if mail.bounce and report else []
    return MailDecision("flagged", flag_reason=reason, bounced=bounced)


def _place(
    mail: ParsedMail, customer: Customer, shares: bool, lookups: Lookups, view: BatchView, rules: RoutingRules
) -> Placement:
    """:func:`~helpdesk.channels.email.threading.place_mail` over what the batch knows."""
    tickets = view.tickets
    by_ids = match_known(
        mail.in_reply_to, mail.references, lookups.known_for(mail.in_reply_to, mail.references)
    )
    if by_ids is not None:
        ticket = tickets.tickets.get(by_ids.ticket_id)
        if ticket is not None and may_write_to(customer, shares, ticket):
            return Placement(by_ids)
        if ticket is not None and (ticket.key, customer.email) in view.copied:
            return Placement(by_ids, participant=True)
    number = find_ticket_number(mail.subject, rules.prefix)
    if number is not None:
        tagged = tickets.tickets.get(number)
        if tagged is not None and may_write_to(customer, shares, tagged):
            return Placement(ThreadMatch(tagged.key, "subject-tag"))
    key = fallback_key(mail.subject, rules.prefix, rules.fallback_days)
    if key is None:
        return Placement(None)
    opened = [(t.key, t.subject) for t in tickets.opened_for(customer.id)]
    return Placement(match_fallback(key, rules.prefix, opened + view.recent.get(customer.id, [])))


def _placed(
    item: Claimed,
    customer: Customer,
    shares: bool,
    placement: Placement,
    lookups: Lookups,
    view: BatchView,
    rules: RoutingRules,
) -> MailDecision:
    tickets, mail = view.tickets, item.mail
    recipients = recipients_of(mail, rules.own)
    actor = Principal(customer_id=customer.id, name=customer.name or customer.email)
    if placement.match is not None:
        ticket_key = placement.match.ticket_id
        if mail.auto_submitted or placement.participant:
            outcome = InboundOutcome.AUTO_REPLY if mail.auto_submitted else InboundOutcome.REPLY
            text = f"[{note_label(mail, customer)}] {mail.subject}\n\n{item.reply_text() or mail.body_text}"
            index = tickets.system_message(
                ticket_key,
                body=body_text(text),
                body_html=full_html(mail),
                channel=Channel.EMAIL,
                author_customer_id=customer.id,
            )
        else:
            ticket_key, index = tickets.customer_message(
                principal_of(customer, shares),
                ticket_key,
                body=body_text(item.reply_text() or mail.body_text),
                body_html=full_html(mail),
                channel=Channel.EMAIL,
            )
            outcome = (
                InboundOutcome.REPLY if ticket_key == placement.match.ticket_id else InboundOutcome.FOLLOW_UP
            )
        return MailDecision(
            outcome.value,
            ticket_key=ticket_key,
            message_index=index,
            notes=_attach(tickets, actor, index, mail),
            recipients=recipients,
        )
    if mail.out_of_office:
        return _flagged("automatic reply that belongs to no known ticket", mail)
    if lookups.new_tickets[customer.email] >= rules.new_ticket_cap:
        return _flagged(f"over the cap of {rules.new_ticket_cap} new tickets per sender and day", mail)
    over_auto_cap = lookups.acknowledged[customer.email] >= rules.auto_reply_cap
    acknowledge = not mail.auto_submitted and not over_auto_cap
    notes: list[Note] = [rules.over_auto_cap_note] if not mail.auto_submitted and over_auto_cap else []
    message_id = mail.message_id
    answers = (
        message_id if message_id and len(message_id) <= 255 and message_id not in lookups.mapped else None
    )
    ticket_key, index = tickets.open(
        principal_of(customer, shares),
        customer,
        subject=db_text(mail.subject) or NO_SUBJECT,
        description=body_text(mail.body_text),
        body_html=full_html(mail),
        channel=Channel.EMAIL,
        acknowledge=acknowledge,
        thread_message_id=answers,
    )
    notes += _attach(tickets, actor, index, mail)
    return MailDecision(
        InboundOutcome.NEW_TICKET.value,
        ticket_key=ticket_key,
        message_index=index,
        acknowledged=acknowledge,
        notes=notes,
        recipients=recipients,
    )


def _bounce(mail: ParsedMail, ticket_key: int, view: BatchView, rules: RoutingRules) -> MailDecision:
    tickets = view.tickets
    if ticket_key not in tickets.tickets:
        raise LookupError(f"ticket {ticket_key} not found")
    index = tickets.system_message(
        ticket_key, body=bounce_note(mail), body_html=full_html(mail), channel=Channel.EMAIL
    )
    report = mail.bounce_report
    bounced = [r.address for r in report.recipients] if report and report.recipients else []
    return MailDecision(
        InboundOutcome.BOUNCE.value,
        ticket_key=ticket_key,
        message_index=index,
        notes=_attach(tickets, MAIL_SYSTEM, index, mail),
        recipients=recipients_of(mail, rules.own),
        bounced=bounced,
        bounced_ticket_customer=not bounced,
    )


def _attach(tickets: TicketBatch, actor: Principal, index: int, mail: ParsedMail) -> list[Note]:
    """Plan the mail's files on its message; returns a note for each file not kept."""
    notes: list[Note] = []
    for attachment in mail.attachments:
        if attachment.content is None:
            notes.append(db_text(f"attachment {attachment.filename!r} not kept: {attachment.skipped_reason}"))
            continue
        refused = tickets.attach(
            actor,
            index,
            filename=db_text(attachment.filename),
            content_type=attachment.content_type,
            data=attachment.content,
            content_id=attachment.content_id,
        )
        if isinstance(refused, TicketText):
            prefix = db_text(f"attachment {attachment.filename!r} not kept: ")
            notes.append(TicketText(prefix + refused.before, refused.ticket_key, db_text(refused.after)))
        elif refused is not None:
            notes.append(db_text(f"attachment {attachment.filename!r} not kept: {refused}"))
    return notes


def rendered_notes(notes: Sequence[Note], ticket_ids: Mapping[int, int]) -> str | None:
    """The notes as the raw row's ``flag_reason`` keeps them, or None."""
    if not notes:
        return None
    texts = [n.render(dict(ticket_ids)) if isinstance(n, TicketText) else n for n in notes]
    return "; ".join(texts)[:2000]
