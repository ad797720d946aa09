"""Turning rows into API shapes (no rules here, only reading)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.accounts.models import User
from helpdesk.customers.models import Customer
from helpdesk.tickets.models import Attachment, Message, Ticket, TicketTag
from helpdesk.tickets.rules import Channel, MessageKind, Priority, TicketStatus
from helpdesk.tickets.schemas import AttachmentRead, MessageRead, TicketRead


async def tags_for(session: AsyncSession, ticket_ids: Sequence[int]) -> dict[int, list[str]]:
    tags: dict[int, list[str]] = defaultdict(list)
    if ticket_ids:
        rows = await session.execute(
            select(TicketTag.ticket_id, TicketTag.tag)
            .where(TicketTag.ticket_id.in_(ticket_ids))
            .order_by(TicketTag.tag)
        )
        for ticket_id, tag in rows:
            tags[ticket_id].append(tag)
    return tags


def ticket_read(ticket: Ticket, tags: list[str], base_url: str | None = None) -> TicketRead:
    return TicketRead(
        id=ticket.id,
        reference=ticket.reference,
        subject=ticket.subject,
        status=TicketStatus(ticket.status),
        priority=Priority(ticket.priority),
        channel=Channel(ticket.channel),
        customer_id=ticket.customer_id,
        organisation_id=ticket.organisation_id,
        queue_id=ticket.queue_id,
        assignee_id=ticket.assignee_id,
        tags=tags,
        version=ticket.version,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        first_responded_at=ticket.first_responded_at,
        resolved_at=ticket.resolved_at,
        closed_at=ticket.closed_at,
        first_response_due_at=ticket.first_response_due_at,
        next_response_due_at=ticket.next_response_due_at,
        resolution_due_at=ticket.resolution_due_at,
        sla_due_at=ticket.sla_due_at,
        previous_ticket_id=ticket.previous_ticket_id,
        tracking_url=f"{base_url}/track/{ticket.tracking_token}" if base_url else None,
    )


async def messages_for(session: AsyncSession, ticket_id: int, *, include_internal: bool) -> list[MessageRead]:
    query = (
        select(Message, User.name, Customer.name, Customer.email)
        .outerjoin(User, User.id == Message.author_user_id)
        .outerjoin(Customer, Customer.id == Message.author_customer_id)
        .where(Message.ticket_id == ticket_id)
        .order_by(Message.created_at, Message.id)
    )
    if not include_internal:
        query = query.where(Message.kind != MessageKind.INTERNAL_NOTE)
    result = []
    for message, user_name, customer_name, customer_email in await session.execute(query):
        result.append(
            MessageRead(
                id=message.id,
                kind=MessageKind(message.kind),
                channel=Channel(message.channel),
                author=user_name or customer_name or customer_email or "system",
                author_user_id=message.author_user_id,
                author_customer_id=message.author_customer_id,
                body_text=message.body_text,
                body_html=message.body_html,
                created_at=message.created_at,
            )
        )
    return result


async def attachments_for(
    session: AsyncSession, ticket_id: int, *, visible_message_ids: set[int] | None, url_prefix: str
) -> list[AttachmentRead]:
    rows = await session.scalars(
        select(Attachment).where(Attachment.ticket_id == ticket_id).order_by(Attachment.id)
    )
    return [
        AttachmentRead(
            id=row.id,
            filename=row.filename,
            content_type=row.content_type,
            size=row.size,
            sha256=row.sha256,
            message_id=row.message_id,
            created_at=row.created_at,
            url=f"{url_prefix}/{row.id}",
        )
        for row in rows
        if visible_message_ids is None or row.message_id is None or row.message_id in visible_message_ids
    ]
