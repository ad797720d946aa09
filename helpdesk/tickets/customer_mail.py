"""Mail to a ticket's customer: rendered in their language with its times in their time zone (the help desk's
defaults when they chose none), threaded with the ticket's earlier mail, queued in the caller's transaction
(sent by the outbox after commit)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.core.settings import Settings
from helpdesk.customers.models import Customer
from helpdesk.notifications.models import OutgoingMail
from helpdesk.notifications.rendering import reader_of, render_mail_for
from helpdesk.notifications.service import queue_mail, thread_headers
from helpdesk.tickets.models import Ticket


async def mail_customer(
    session: AsyncSession,
    now: datetime,
    ticket: Ticket,
    customer: Customer,
    *,
    template: str,
    settings: Settings,
    auto_submitted: str | None,
    thread: bool = True,
    **context: Any,
) -> OutgoingMail:
    """Queue ``template`` for the customer; the context always has the reference, subject and tracking link.

    ``auto_submitted`` is "auto-replied" for acknowledgements and None for a person's reply (RFC 3834);
    ``thread=False`` skips looking up earlier mail (a ticket just opened on the web has none).
    """
    rendered = render_mail_for(
        reader_of(customer.language, customer.time_zone, settings),
        template,
        reference=ticket.reference,
        subject=ticket.subject,
        link=f"{settings.base_url}/track/{ticket.tracking_token}",
        **context,
    )
    in_reply_to, references = await thread_headers(session, ticket.id) if thread else (None, None)
    return queue_mail(
        session,
        now,
        kind=template,
        ticket_id=ticket.id,
        to_address=customer.email,
        subject=rendered.subject,
        body_text=rendered.body_text,
        body_html=rendered.body_html,
        in_reply_to=in_reply_to,
        references=references,
        auto_submitted=auto_submitted,
    )
