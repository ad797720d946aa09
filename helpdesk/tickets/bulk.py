"""Writing a :class:`~helpdesk.tickets.batch.TicketBatch` with a few multi-row statements.

For a whole batch, what ``TicketService.open_in``, ``add_message_in`` and ``add_system_message_in`` write for
one message: the new tickets with their deadlines in the INSERT, their SLA snapshots, target states and
scheduled escalations (the policy resolved once per customer, the deadlines computed once per policy and
priority), the messages, files and audit rows, the acknowledgements with their send jobs, and the
knowledge-base suggestion jobs. Existing tickets get their status moves and ``updated_at`` through the ORM
(so their ``version`` goes up), and the SLA of every ticket a customer wrote to is refreshed once at the end.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.accounts.security import new_token
from helpdesk.core.outbox import add_outbox_job
from helpdesk.core.principal import Principal
from helpdesk.notifications.models import OutgoingMail
from helpdesk.notifications.rendering import reader_of, render_mail_for
from helpdesk.notifications.service import SEND_JOB, outgoing_mail_values, thread_of
from helpdesk.runtime import Runtime
from helpdesk.tickets import audit
from helpdesk.tickets.batch import OpenedTicket, TicketBatch
from helpdesk.tickets.bulk_rows import NewRows, write_rows
from helpdesk.tickets.bulk_sla import new_ticket_statuses, policy_owners, priority_of, sla_rows
from helpdesk.tickets.models import Attachment, AttachmentBlob, AuditEvent, Message, Ticket
from helpdesk.tickets.rules import TicketStatus, ticket_reference
from helpdesk.tickets.sla_sync import refresh_sla
from helpdesk.tickets.status import change_status
from helpdesk.tickets.storage import DatabaseStorage
from sla.resolution import resolve_policies
from sla.rules import SlaStatus
from sla.service import ResolvedPolicy

SUGGEST_JOB = "suggest_for_ticket_job"


@dataclass(frozen=True)
class WrittenBatch:
    ticket_ids: dict[int, int]  # plan key -> ticket id (an existing ticket's key is its id)
    message_ids: list[int]  # by message index


async def write_batch(session: AsyncSession, runtime: Runtime, batch: TicketBatch) -> WrittenBatch:
    """Write ``batch`` in the caller's transaction (see the module docstring)."""
    now = batch.now
    ticket_ids = {key: key for key in batch.existing}
    owners = await policy_owners(session, batch)
    policies = await resolve_policies(session, set(owners.values()), now)
    opened = [(o, policies[owners[o.key]]) for o in batch.opened]
    statuses = new_ticket_statuses(opened, now)
    tokens = {o.key: new_token() for o, _ in opened}
    new_ids = await _insert_ids(
        session,
        _table(Ticket),
        [_ticket_row(batch, o, policy, statuses[o.key], tokens[o.key], now) for o, policy in opened],
    )
    ticket_ids.update(zip([o.key for o, _ in opened], new_ids, strict=True))
    for move in batch.moves:
        change_status(session, move.actor, batch.existing[move.ticket_key], move.target, now)
    for key in batch.touched:
        batch.existing[key].updated_at = now
    message_ids = await _insert_ids(
        session,
        _table(Message),
        [
            {
                "ticket_id": ticket_ids[m.ticket_key],
                "kind": m.kind.value,
                "channel": m.channel.value,
                "author_user_id": None,
                "author_customer_id": m.author_customer_id,
                "body_text": m.body_text,
                "body_html": m.body_html,
                "created_at": now,
            }
            for m in batch.messages
        ],
    )
    attachment_ids = await _write_attachments(session, runtime, batch, ticket_ids, message_ids)
    audits = [
        _audit(
            o.actor,
            ticket_ids[o.key],
            "created",
            None,
            f"follow-up of {o.follow_up_of.reference}" if o.follow_up_of else TicketStatus.NEW.value,
            now,
        )
        for o, _ in opened
    ]
    for attachment, attachment_id in zip(batch.attachments, attachment_ids, strict=True):
        audits.append(
            _audit(
                attachment.actor,
                ticket_ids[attachment.ticket_key],
                "attachment",
                None,
                attachment.filename,
                now,
                entity="attachment",
                entity_id=attachment_id,
            )
        )
    # The new tickets' SLA rows and the audit trail in one statement (the SLA refresh below reads the former).
    await write_rows(
        session, [*sla_rows(opened, statuses, ticket_ids, now), NewRows(_table(AuditEvent), audits)]
    )
    await _write_jobs(session, runtime, batch, opened, ticket_ids, tokens, now)
    replied = [ticket_ids[key] for key in sorted(batch.customer_messages, key=abs)]
    if replied:
        loaded = {t.id: t for t in batch.existing.values()}
        missing = [i for i in replied if i not in loaded]
        if missing:
            loaded.update(
                {t.id: t for t in await session.scalars(select(Ticket).where(Ticket.id.in_(missing)))}
            )
        await refresh_sla(session, [loaded[i] for i in replied], now)
    return WrittenBatch(ticket_ids, message_ids)


def _table(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


async def _insert_ids(session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """INSERT every row (one statement per driver batch) and return their ids in the order of ``rows``."""
    if not rows:
        return []
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list((await session.execute(statement, list(rows))).scalars())


def _ticket_row(
    batch: TicketBatch,
    opened: OpenedTicket,
    policy: ResolvedPolicy,
    status: SlaStatus,
    token: str,
    now: datetime,
) -> dict[str, Any]:
    planned = batch.tickets[opened.key]
    closed = opened.follow_up_of
    return {
        "subject": planned.subject,
        "status": TicketStatus.NEW.value,
        "priority": priority_of(opened, policy),
        "impact": None,
        "urgency": None,
        "channel": opened.channel.value,
        "queue_id": closed.queue_id if closed else None,
        "assignee_id": None,
        "customer_id": planned.customer_id,
        "organisation_id": planned.organisation_id,
        "previous_ticket_id": closed.id if closed else None,
        "tracking_token": token,
        "version": 1,
        "created_at": now,
        "updated_at": now,
        "first_responded_at": None,
        "resolved_at": None,
        "closed_at": None,
        "first_response_due_at": status.first_response_due_at,
        "next_response_due_at": status.next_response_due_at,
        "resolution_due_at": status.resolution_due_at,
        "sla_due_at": status.sla_due_at,
        "sla_next_escalation_at": min((step.notify_at for step in status.escalations), default=None),
    }


def _audit(
    actor: Principal,
    ticket_id: int,
    field: str,
    old: str | None,
    new: str | None,
    now: datetime,
    *,
    entity: str = "ticket",
    entity_id: int | None = None,
) -> dict[str, Any]:
    """The row ``helpdesk.tickets.audit.record`` adds."""
    return audit.row(
        now, actor, ticket_id=ticket_id, field=field, old=old, new=new, entity=entity, entity_id=entity_id
    )


async def _write_attachments(
    session: AsyncSession,
    runtime: Runtime,
    batch: TicketBatch,
    ticket_ids: Mapping[int, int],
    message_ids: Sequence[int],
) -> list[int]:
    if not batch.attachments:
        return []
    storage = runtime.storage
    if isinstance(storage, DatabaseStorage):
        blobs = {a.sha256: a.data for a in batch.attachments}
        table = _table(AttachmentBlob)
        insert_blob = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        await session.execute(
            insert_blob(table).on_conflict_do_nothing(index_elements=["sha256"]),
            [{"sha256": digest, "data": data} for digest, data in blobs.items()],
        )
    else:
        for attachment in batch.attachments:
            await storage.put(session, attachment.sha256, attachment.data)
    return await _insert_ids(
        session,
        _table(Attachment),
        [
            {
                "ticket_id": ticket_ids[a.ticket_key],
                "message_id": message_ids[a.message_index],
                "filename": a.filename,
                "content_type": a.content_type,
                "size": len(a.data),
                "sha256": a.sha256,
                "content_id": a.content_id,
                "storage": storage.name,
                "created_at": batch.now,
            }
            for a in batch.attachments
        ],
    )


async def _write_jobs(
    session: AsyncSession,
    runtime: Runtime,
    batch: TicketBatch,
    opened: Sequence[tuple[OpenedTicket, ResolvedPolicy]],
    ticket_ids: Mapping[int, int],
    tokens: Mapping[int, str],
    now: datetime,
) -> None:
    """The acknowledgements (threaded with the mail that opened the ticket) and, per ticket opened on a
    customer's request, its send job and then its knowledge-base suggestion job, in the outbox."""
    requested = [o for o, _ in opened if o.customer is not None]
    acknowledged = [o for o in requested if o.acknowledge]
    mails = []
    for ticket in acknowledged:
        customer = ticket.customer
        assert customer is not None
        ticket_id = ticket_ids[ticket.key]
        rendered = render_mail_for(
            reader_of(customer.language, customer.time_zone, runtime.settings),
            "ticket_acknowledgement",
            reference=ticket_reference(ticket_id),
            subject=batch.tickets[ticket.key].subject,
            name=customer.name or "",
            link=f"{runtime.settings.base_url}/track/{tokens[ticket.key]}",
            received_at=now,
        )
        thread = [(now, ticket.thread_message_id, True)] if ticket.thread_message_id else []
        in_reply_to, references = thread_of(thread)
        mails.append(
            outgoing_mail_values(
                now,
                kind="ticket_acknowledgement",
                ticket_id=ticket_id,
                to_address=customer.email,
                subject=rendered.subject,
                body_text=rendered.body_text,
                body_html=rendered.body_html,
                in_reply_to=in_reply_to,
                references=references,
                auto_submitted="auto-replied",
            )
        )
    mail_ids = dict(
        zip(
            [o.key for o in acknowledged],
            await _insert_ids(session, _table(OutgoingMail), mails),
            strict=True,
        )
    )
    # Through add_outbox_job, so that a transaction of Runtime.transaction() queues them once it commits.
    for ticket in requested:
        if ticket.key in mail_ids:
            add_outbox_job(session, now, SEND_JOB, mail_ids[ticket.key])
        add_outbox_job(session, now, SUGGEST_JOB, ticket_ids[ticket.key])
