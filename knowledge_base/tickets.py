"""What the knowledge base reads of tickets, by table name (tickets belong to ``helpdesk``; nothing here
writes them): whether one exists, and the text a suggestion is computed from."""

from __future__ import annotations

from sqlalchemy import column, select, table
from sqlalchemy.ext.asyncio import AsyncSession

_ticket = table("ticket", column("id"), column("subject"))
_message = table("ticket_message", column("id"), column("ticket_id"), column("kind"), column("body_text"))

# The first customer message is the request; later ones are the conversation.
FIRST_MESSAGE_KIND = "customer_message"
MAX_TEXT = 4000


async def ticket_exists(session: AsyncSession, ticket_id: int) -> bool:
    return await session.scalar(select(_ticket.c.id).where(_ticket.c.id == ticket_id)) is not None


async def ticket_text(session: AsyncSession, ticket_id: int) -> str | None:
    """Subject and first message of a ticket (quoted history is already stripped from mail bodies by the
    e-mail channel), capped at ``MAX_TEXT`` characters; ``None`` if there is no such ticket."""
    subject = await session.scalar(select(_ticket.c.subject).where(_ticket.c.id == ticket_id))
    if subject is None:
        return None
    body = await session.scalar(
        select(_message.c.body_text)
        .where(_message.c.ticket_id == ticket_id, _message.c.kind == FIRST_MESSAGE_KIND)
        .order_by(_message.c.id)
        .limit(1)
    )
    return f"{subject}\n{body or ''}"[:MAX_TEXT]
