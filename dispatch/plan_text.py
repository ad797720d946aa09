"""A day plan and a technician's job list as plain text lines for ``helpdesk dispatch``. Pure: no I/O.

Times are shown on the 24-hour clock in each technician's calendar zone, which every block names once (with its
abbreviation on that day: CET or CEST); the arrival window is the one the customer is (or will be) told.
"""

from __future__ import annotations

from datetime import date, datetime, time, tzinfo

from dispatch.board import Board, Lane
from dispatch.rules import appointment_window
from dispatch.schemas import JobList, JobRead, PlanRead
from helpdesk.core.zones import zone_named


def zone_heading(zone_name: str, day: date) -> str:
    """``Europe/Berlin, CET``: the zone and its abbreviation at noon of ``day``; just ``UTC`` for UTC."""
    zone = zone_named(zone_name)
    abbreviation = datetime.combine(day, time(12), tzinfo=zone).tzname() or ""
    return zone.key if abbreviation in ("", zone.key) else f"{zone.key}, {abbreviation}"


def clock(at: datetime | None, zone: tzinfo) -> str:
    return "--:--" if at is None else f"{at.astimezone(zone):%H:%M}"


def duration_text(minutes: int) -> str:
    hours, rest = divmod(max(0, minutes), 60)
    return f"{hours} h {rest:02d} min" if hours else f"{rest} min"


def plan_heading(plan: PlanRead) -> str:
    solver = f", {plan.solver}" if plan.solver else ""
    return f"Plan {plan.day.isoformat()} v{plan.version} ({plan.status}{solver})"


def plan_lines(board: Board) -> list[str]:
    """The chosen plan of ``board``: each technician's visits in order, the orders left out with the reason,
    then the totals. ``board.plan`` must be set."""
    plan = board.plan
    assert plan is not None
    lines = [plan_heading(plan)]
    if plan.error:
        lines.append(f"  error: {plan.error}")
    for lane in board.lanes:
        if lane.visits or lane.technician.is_active:
            lines.extend(_lane_lines(lane, board.day))
    lines.append(f"Not planned: {len(board.unscheduled)}")
    for entry, order in board.unscheduled:
        detail = f" ({entry.detail})" if entry.detail else ""
        lines.append(f"  {order.reference}  {order.ticket_reference} {order.summary}: {entry.reason}{detail}")
    planned = sum(len(lane.visits) for lane in board.lanes)
    lines.append(
        f"Totals: {planned} of {planned + len(board.unscheduled)} work orders planned, "
        f"{len(board.unscheduled)} not planned; travel {duration_text(plan.travel_minutes)}, "
        f"lateness {duration_text(plan.lateness_minutes)}, overtime {duration_text(plan.overtime_minutes)}"
    )
    return lines


def _lane_lines(lane: Lane, day: date) -> list[str]:
    tech = lane.technician
    zone = zone_named(tech.hours.timezone)
    count = f"{len(lane.visits)} visit{'' if len(lane.visits) == 1 else 's'}" if lane.visits else "no visits"
    lines = [f"{tech.name} (times in {zone_heading(tech.hours.timezone, day)}): {count}"]
    for number, (visit, order) in enumerate(lane.visits, start=1):
        window_start, window_end = appointment_window(visit.start_at)
        late = f"  late {duration_text(visit.lateness_minutes)}" if visit.lateness_minutes else ""
        lines.append(
            f"  {number}. {clock(visit.start_at, zone)}–{clock(visit.end_at, zone)}  {order.reference}  "
            f"{order.ticket_reference} {order.summary}, {order.address}  "
            f"(window {clock(window_start, zone)}–{clock(window_end, zone)}){late}"
        )
    return lines


def job_lines(jobs: JobList) -> list[str]:
    """A technician's day: each job in planned order with its window, place, contact, asset and parts."""
    zone = zone_named(jobs.time_zone)
    count = f"{len(jobs.jobs)} job{'' if len(jobs.jobs) == 1 else 's'}" if jobs.jobs else "no jobs"
    lines = [
        f"{jobs.technician_name}, {jobs.day:%A} {jobs.day.isoformat()} "
        f"(times in {zone_heading(jobs.time_zone, jobs.day)}): {count}"
    ]
    for number, job in enumerate(jobs.jobs, start=1):
        lines.extend(_job_lines(number, job, zone))
    return lines


def _job_lines(number: int, job: JobRead, zone: tzinfo) -> list[str]:
    window = (
        f"  window {clock(job.window_start_at, zone)}–{clock(job.window_end_at, zone)}"
        if job.window_start_at is not None
        else ""
    )
    contact = "  ".join(part for part in (job.contact_name, job.contact_email, job.contact_phone) if part)
    lines = [
        f"{number}. {clock(job.planned_start_at, zone)}–{clock(job.planned_end_at, zone)}  {job.reference}  "
        f"{job.status}{window}",
        f"   {job.ticket_reference} {job.summary}",
        f"   {job.address}  {job.geo_uri}",
    ]
    if contact:
        lines.append(f"   {contact}")
    if job.asset is not None:
        until = job.asset.warranty_until
        warranty = f"warranty until {until.isoformat()}" if until else "no warranty"
        names = " ".join(
            part for part in (job.asset.product, job.asset.model, job.asset.serial_number) if part
        )
        lines.append(f"   Asset: {names} ({warranty})")
    lines.append(f"   Billing: {job.billing} ({job.billing_reason})")
    if job.required_parts:
        lines.append(f"   Parts: {', '.join(job.required_parts)}")
    return lines
