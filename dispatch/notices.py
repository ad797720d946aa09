"""What the help desk needs to tell a customer about their appointment, claimed once per window.

Runs inside the caller's transaction (the help desk's notification job queues the mail in the same one), so
the notice and the mail commit together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.models import TechnicianRow, WorkOrderEventRow, WorkOrderRow


@dataclass(frozen=True, slots=True)
class AppointmentNotice:
    work_order_id: int
    reference: str
    ticket_id: int
    ticket_reference: str
    summary: str
    # The customer whose language and time zone the mail is written in (None: the help desk's defaults).
    customer_id: int | None
    contact_name: str
    contact_email: str
    address: str
    # "" when the order has no technician (the mail then says "our technician").
    technician_name: str
    window_start_at: datetime
    window_end_at: datetime


async def claim_appointment_notices(session: AsyncSession, plan_id: int) -> list[AppointmentNotice]:
    """The notices still to send for the visits of published plan ``plan_id``: orders still on that plan
    whose arrival window the customer has not been told. Each is marked told as it is returned, so a second
    run finds nothing; the caller queues the mail in the same transaction."""
    rows = await session.scalars(
        select(WorkOrderRow)
        .where(
            WorkOrderRow.plan_id == plan_id,
            WorkOrderRow.notified_plan_id.is_(None),
            WorkOrderRow.window_start_at.is_not(None),
            WorkOrderRow.contact_email != "",
        )
        .order_by(WorkOrderRow.id)
    )
    notices = []
    for order in list(rows):
        # A plain UPDATE: the marker must not bump the order's version (a technician's open page stays current).
        claimed = await session.execute(
            update(WorkOrderRow)
            .where(WorkOrderRow.id == order.id, WorkOrderRow.notified_plan_id.is_(None))
            .values(notified_plan_id=plan_id)
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            continue
        assert order.window_start_at is not None
        assert order.window_end_at is not None
        tech = await session.get(TechnicianRow, order.technician_id) if order.technician_id else None
        notices.append(
            AppointmentNotice(
                work_order_id=order.id,
                reference=order.reference,
                ticket_id=order.ticket_id,
                ticket_reference=order.ticket_reference,
                summary=order.summary,
                customer_id=order.customer_id,
                contact_name=order.contact_name,
                contact_email=order.contact_email,
                address=order.address,
                technician_name=tech.name if tech else "",
                window_start_at=order.window_start_at,
                window_end_at=order.window_end_at,
            )
        )
    return notices


@dataclass(frozen=True, slots=True)
class MirrorEvent:
    """A work order step to write onto its ticket as an internal note."""

    event_id: int
    work_order_id: int
    ticket_id: int
    actor: str
    actor_user_id: int | None
    field: str
    old_value: str | None
    new_value: str | None
    note: str
    resolves_ticket: bool


async def claim_event_mirror(session: AsyncSession, event_id: int, now: datetime) -> MirrorEvent | None:
    """Mark an event as mirrored and return it; ``None`` when it was claimed before (a second delivery)."""
    claimed = await session.execute(
        update(WorkOrderEventRow)
        .where(WorkOrderEventRow.id == event_id, WorkOrderEventRow.mirrored_at.is_(None))
        .values(mirrored_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        return None
    event = await session.get(WorkOrderEventRow, event_id)
    assert event is not None
    return MirrorEvent(
        event_id=event.id,
        work_order_id=event.work_order_id,
        ticket_id=event.ticket_id,
        actor=event.actor,
        actor_user_id=event.actor_user_id,
        field=event.field,
        old_value=event.old_value,
        new_value=event.new_value,
        note=event.note,
        resolves_ticket=event.resolves_ticket,
    )


async def release_event_mirror(session: AsyncSession, event_id: int) -> None:
    """Undo a claim whose note could not be written, so a retry writes it."""
    await session.execute(
        update(WorkOrderEventRow)
        .where(WorkOrderEventRow.id == event_id)
        .values(mirrored_at=None)
        .execution_options(synchronize_session=False)
    )
