"""The batched path's reads and writes around :mod:`routing`: lock the batch's raw rows, read the tickets its
mail may thread to, then write every decision with a few multi-row statements.

The writes of one mail in the one-by-one path (:mod:`per_mail`) are here one statement per kind of row for
the whole batch: the ticket writes (:func:`helpdesk.tickets.bulk.write_batch`), the Message-ID map, the
recipients, and the raw rows' status with one executemany UPDATE. A failure anywhere rolls the whole batch
back; the caller then processes its mails one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.channels.email.headers import find_ticket_number
from helpdesk.channels.email.lookups import Claimed, Lookups, refusal, sender_of
from helpdesk.channels.email.models import InboundMail, InboundRecipient, InboundStatus
from helpdesk.channels.email.recording import db_text
from helpdesk.channels.email.routing import BatchView, MailDecision, RoutingRules, rendered_notes
from helpdesk.channels.email.threading import FALLBACK_CANDIDATES, fallback_key
from helpdesk.customers.models import Customer
from helpdesk.customers.service import clear_bouncing, normalise_email
from helpdesk.notifications.models import MailReference
from helpdesk.runtime import Runtime
from helpdesk.tickets.batch import TicketBatch
from helpdesk.tickets.bulk import write_batch
from helpdesk.tickets.bulk_rows import ChangedRows, NewRows, write_rows
from helpdesk.tickets.models import Attachment, Ticket


async def lock_pending(session: AsyncSession, inbound_ids: Sequence[int]) -> set[int]:
    """Lock the batch's raw rows for this transaction and return those still pending: a mail another run
    processed meanwhile is skipped, and no other run can process these until this one commits."""
    rows = await session.scalars(
        select(InboundMail.id)
        .where(InboundMail.id.in_(list(inbound_ids)), InboundMail.status == InboundStatus.PENDING.value)
        .order_by(InboundMail.id)
        .with_for_update()
    )
    return set(rows)


async def load_view(
    session: AsyncSession,
    runtime: Runtime,
    items: Sequence[Claimed],
    lookups: Lookups,
    rules: RoutingRules,
    now: datetime,
) -> BatchView:
    """The tickets the batch's mail may thread to (by id, by subject tag, each sender's recent ones for the
    fallback), who was copied on them, and the bytes of their files: three queries at most."""
    settings = runtime.settings
    view = BatchView(TicketBatch(now, settings.max_attachment_bytes, settings.max_ticket_attachment_bytes))
    wanted = set(lookups.known.values())
    fallback_customers: set[int] = set()
    for item in items:
        mail = item.mail
        if refusal(mail, lookups, rules.own) is not None or mail.bounce:
            continue
        number = find_ticket_number(mail.subject, rules.prefix)
        if number is not None:
            wanted.add(number)
        customer = lookups.customers.get(normalise_email(sender_of(mail)))
        if customer is not None and fallback_key(mail.subject, rules.prefix, rules.fallback_days) is not None:
            fallback_customers.add(customer.id)
    since = now - timedelta(days=rules.fallback_days)
    tickets = await _tickets(session, wanted, fallback_customers, since)
    for ticket in tickets:  # newest first: each sender's recent tickets, as the fallback compares them
        if ticket.customer_id not in fallback_customers or ticket.created_at < since:
            continue
        recent = view.recent.setdefault(ticket.customer_id, [])
        if len(recent) < FALLBACK_CANDIDATES:
            recent.append((ticket.id, ticket.subject))
    ids = list({t.id for t in tickets})
    used: dict[int, int] = {}
    if ids and any(a.content is not None for item in items for a in item.mail.attachments):
        rows = await session.execute(
            select(Attachment.ticket_id, func.sum(Attachment.size))
            .where(Attachment.ticket_id.in_(ids))
            .group_by(Attachment.ticket_id)
        )
        used = {int(ticket_id): int(size or 0) for ticket_id, size in rows}
    for ticket in tickets:
        view.tickets.add_existing(ticket, used.get(ticket.id, 0))
    if ids and lookups.customers:
        rows2 = await session.execute(
            select(InboundRecipient.ticket_id, InboundRecipient.address).where(
                InboundRecipient.ticket_id.in_(ids), InboundRecipient.address.in_(list(lookups.customers))
            )
        )
        view.copied = {(int(ticket_id), address) for ticket_id, address in rows2 if ticket_id is not None}
    return view


async def _tickets(
    session: AsyncSession, wanted: set[int], customers: set[int], since: datetime
) -> list[Ticket]:
    """The tickets of ``wanted`` and the ``FALLBACK_CANDIDATES`` newest of each of ``customers`` created
    since ``since``, newest first, in one query."""
    conditions = [Ticket.id.in_(wanted)] if wanted else []
    if customers:
        rank = func.row_number().over(partition_by=Ticket.customer_id, order_by=Ticket.id.desc())
        ranked = (
            select(Ticket.id, rank.label("rank"))
            .where(Ticket.customer_id.in_(customers), Ticket.created_at >= since)
            .subquery()
        )
        conditions.append(Ticket.id.in_(select(ranked.c.id).where(ranked.c.rank <= FALLBACK_CANDIDATES)))
    if not conditions:
        return []
    return list(await session.scalars(select(Ticket).where(or_(*conditions)).order_by(Ticket.id.desc())))


async def write_decisions(
    session: AsyncSession,
    runtime: Runtime,
    decided: Sequence[tuple[Claimed, MailDecision]],
    tickets: TicketBatch,
    announce: dict[str, list[int]],
) -> dict[int, str]:
    """Write the batch's ticket plan and every mail's own rows; returns each mail's outcome and adds the
    tickets to ``announce`` (created / updated)."""
    now = tickets.now
    written = await write_batch(session, runtime, tickets)
    ids = written.ticket_ids
    references: dict[str, dict[str, Any]] = {}
    recipients = []
    updates = []
    for item, decision in decided:
        ticket_id = ids[decision.ticket_key] if decision.ticket_key is not None else None
        message_id = item.mail.message_id
        if ticket_id is not None and message_id and len(message_id) <= 255 and message_id not in references:
            references[message_id] = {"message_id": message_id, "ticket_id": ticket_id, "created_at": now}
        recipients += [
            {"inbound_mail_id": item.inbound_id, "address": address, "kind": kind, "name": name,
             "ticket_id": ticket_id}
            for address, kind, name in (decision.recipients if ticket_id is not None else [])
        ]  # fmt: skip
        flagged = decision.outcome == "flagged"
        reason = (
            db_text(decision.flag_reason or "")[:2000] if flagged else rendered_notes(decision.notes, ids)
        )
        index = decision.message_index
        updates.append({
            "id": item.inbound_id,
            "status": InboundStatus.FLAGGED.value if flagged else InboundStatus.PROCESSED.value,
            "outcome": None if flagged else decision.outcome, "flag_reason": reason, "processed_at": now,
            "ticket_id": ticket_id, "ticket_message_id": written.message_ids[index] if index is not None else None,
            "from_address": sender_of(item.mail) or None, "auto_submitted": item.mail.auto_submitted,
            "acknowledged": decision.acknowledged,
        })  # fmt: skip
        if ticket_id is not None:
            announce["created" if decision.outcome == "new_ticket" else "updated"].append(ticket_id)
    await _mark_bouncing(session, decided, tickets, now)
    # The Message-ID map, the recipients and every raw row's outcome: one statement (bulk_rows). A processed
    # mail without notes keeps the flag_reason of an earlier failed try, as the one-by-one path does.
    await write_rows(session, [
        NewRows(_table(MailReference), list(references.values()), skip_conflicts_on=("message_id",)),
        NewRows(_table(InboundRecipient), recipients),
        ChangedRows(_table(InboundMail), "id", updates, only_where={"status": InboundStatus.PENDING.value},
                    keep_if_null=("flag_reason",)),
    ])  # fmt: skip
    return {item.inbound_id: decision.outcome for item, decision in decided}


def _table(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


async def _mark_bouncing(
    session: AsyncSession,
    decided: Sequence[tuple[Claimed, MailDecision]],
    tickets: TicketBatch,
    now: datetime,
) -> None:
    """Addresses marked bouncing (by a delivery failure) and cleared (by their owner writing) in the order of
    the mail, as one mail at a time would: one query for the customers of the failures."""
    addresses = {normalise_email(a) for _, d in decided for a in d.bounced}
    owners = {
        tickets.tickets[d.ticket_key].customer_id
        for _, d in decided
        if d.bounced_ticket_customer and d.ticket_key is not None
    }
    conditions = []
    if addresses:
        conditions.append(Customer.email.in_(addresses))
    if owners:
        conditions.append(Customer.id.in_(owners))
    customers = list(await session.scalars(select(Customer).where(or_(*conditions)))) if conditions else []
    by_email = {c.email: c for c in customers}
    by_id = {c.id: c for c in customers}
    for _, decision in decided:
        if decision.clears_bouncing is not None:
            clear_bouncing(decision.clears_bouncing)
        marked = [by_email.get(normalise_email(a)) for a in decision.bounced]
        if decision.bounced_ticket_customer and decision.ticket_key is not None:
            marked.append(by_id.get(tickets.tickets[decision.ticket_key].customer_id))
        for customer in marked:
            if customer is not None and customer.bouncing_since is None:
                customer.bouncing_since = now
