"""The customer's appointment mail: their visit window in their own time zone and language, from the Jinja2
templates ``field_appointment.{subject,txt,html}.j2`` (English and Russian), threaded with the ticket's mail.

Queued in the caller's transaction, next to the claim of the notice, so the mail and the claim commit together.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel import dates
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.notices import AppointmentNotice
from helpdesk.core.settings import Settings
from helpdesk.customers.models import Customer
from helpdesk.notifications.models import OutgoingMail
from helpdesk.notifications.rendering import reader_of, render_mail_for
from helpdesk.notifications.service import queue_mail, thread_headers
from helpdesk.tickets.models import Ticket

TEMPLATE = "field_appointment"


def zone_label(zone: ZoneInfo, at: datetime) -> str:
    """``Europe/Berlin, CET``: the zone's IANA name and its abbreviation at ``at`` (summer time changes it);
    just ``UTC`` when the two are the same."""
    abbreviation = at.astimezone(zone).tzname() or ""
    return zone.key if abbreviation in ("", zone.key) else f"{zone.key}, {abbreviation}"


def appointment_values(notice: AppointmentNotice, zone: ZoneInfo, language: str) -> dict[str, Any]:
    """What the templates show: the window's day (spelled out in ``language``), its start and end on the
    24-hour clock and the zone, all in ``zone``."""
    start = notice.window_start_at.astimezone(zone)
    end = notice.window_end_at.astimezone(zone)
    return {
        "name": notice.contact_name,
        "reference": notice.ticket_reference,
        "summary": notice.summary,
        "technician": notice.technician_name,
        "address": notice.address,
        "day": dates.format_date(start.date(), format="full", locale=language),
        "start": f"{start:%H:%M}",
        "end": f"{end:%H:%M}",
        "zone": zone_label(zone, start),
    }


async def queue_appointment_mail(
    session: AsyncSession, now: datetime, settings: Settings, notice: AppointmentNotice
) -> OutgoingMail:
    """Queue the mail telling ``notice``'s contact their arrival window: in the customer's language and time
    zone (the help desk's defaults when the customer has none set, or the order names no customer)."""
    customer = await session.get(Customer, notice.customer_id) if notice.customer_id is not None else None
    ticket = await session.get(Ticket, notice.ticket_id)
    reader = reader_of(
        customer.language if customer else None, customer.time_zone if customer else None, settings
    )
    link = f"{settings.base_url}/track/{ticket.tracking_token}" if ticket is not None else ""
    values = appointment_values(notice, reader.zone, reader.language)
    rendered = render_mail_for(reader, TEMPLATE, link=link, **values)
    in_reply_to, references = await thread_headers(session, notice.ticket_id)
    return queue_mail(
        session,
        now,
        kind=TEMPLATE,
        ticket_id=notice.ticket_id,
        to_address=notice.contact_email,
        subject=rendered.subject,
        body_text=rendered.body_text,
        body_html=rendered.body_html,
        in_reply_to=in_reply_to,
        references=references,
    )
