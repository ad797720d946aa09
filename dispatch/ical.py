"""A technician's jobs as an iCalendar feed (RFC 5545): one VEVENT per job, with location and geo."""

from __future__ import annotations

from collections.abc import Sequence

from icalendar import Calendar, Event

from dispatch.schemas import JobRead


def render_calendar(technician_name: str, jobs: Sequence[JobRead], base_url: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Help desk//Field service//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"Jobs of {technician_name}")
    host = base_url.split("://", 1)[-1].split("/", 1)[0] or "helpdesk"
    for job in jobs:
        if job.planned_start_at is None or job.planned_end_at is None:
            continue
        event = Event()
        event.add("uid", f"work-order-{job.work_order_id}@{host}")
        event.add("dtstamp", job.planned_start_at)
        event.add("dtstart", job.planned_start_at)
        event.add("dtend", job.planned_end_at)
        event.add("summary", f"{job.reference}: {job.summary}")
        event.add("location", job.address)
        event.add("geo", (job.lat, job.lon))
        event.add("status", "CANCELLED" if job.status == "cancelled" else "CONFIRMED")
        event.add("description", _description(job, base_url))
        calendar.add_component(event)
    data: bytes = calendar.to_ical()
    return data


def _description(job: JobRead, base_url: str) -> str:
    lines = [
        f"Ticket {job.ticket_reference}: {job.summary}",
        f"Status: {job.status}",
    ]
    if job.window_start_at and job.window_end_at:
        lines.append(f"Arrival window: {job.window_start_at:%H:%M}–{job.window_end_at:%H:%M} UTC")
    lines.append(f"Customer: {job.contact_name} {job.contact_phone} {job.contact_email}".rstrip())
    if job.asset is not None:
        lines.append(
            f"Asset: {job.asset.product} {job.asset.model} serial {job.asset.serial_number}".replace(
                "  ", " "
            )
        )
    lines.append(f"Billing: {job.billing} — {job.billing_reason}")
    if job.required_parts:
        lines.append(f"Parts: {', '.join(job.required_parts)}")
    lines.append(f"Map: {job.geo_uri}")
    lines.append(f"Open: {base_url}/technician")
    return "\n".join(lines)
