"""Jobs that carry field service's effects onto the help desk: ticket notes and appointment mail.

Both are queued through the outbox by ``dispatch`` by name, take ids only and do nothing the second time.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.exc import OperationalError

from dispatch.notices import (
    MirrorEvent,
    claim_appointment_notices,
    claim_event_mirror,
    release_event_mirror,
)
from helpdesk.accounts.models import User
from helpdesk.core.db import transaction
from helpdesk.core.principal import SYSTEM, Principal, Role
from helpdesk.core.queue import Retry
from helpdesk.field.appointments import queue_appointment_mail
from helpdesk.notifications.service import flush_mail_jobs
from helpdesk.runtime import Runtime
from helpdesk.tickets.service import TicketService

log = logging.getLogger(__name__)


async def mirror_work_order_events_job(ctx: dict[str, Any], event_ids: list[int]) -> int:
    """Write work order steps onto their tickets as internal notes, in order (a completion with everything
    done resolves the ticket). Each event is claimed first, so a second delivery skips what was written; a
    failure releases the claim and retries. Returns how many notes were written."""
    runtime: Runtime = ctx["runtime"]
    written = 0
    for event_id in event_ids:
        try:
            async with transaction(runtime.sessions) as session:
                event = await claim_event_mirror(session, event_id, runtime.clock.now())
                user = await session.get(User, event.actor_user_id) if event and event.actor_user_id else None
        except OperationalError as exc:  # SQLite: another writer; try again shortly
            raise Retry(defer=1) from exc
        if event is None:
            continue
        actor = Principal(user_id=user.id, role=Role(user.role), name=user.name) if user else SYSTEM
        try:
            await TicketService(runtime).add_field_note(
                actor, event.ticket_id, field_note(event), resolve=event.resolves_ticket
            )
        except Exception as exc:
            async with transaction(runtime.sessions) as session:
                await release_event_mirror(session, event_id)
            log.warning("mirroring work order event %s failed: %s", event_id, exc)
            raise Retry(defer=1) from exc
        written += 1
    return written


def field_note(event: MirrorEvent) -> str:
    reference = f"WO-{event.work_order_id}"
    if event.field == "created":
        head = f"Field service: work order {reference} created ({event.new_value})."
    elif event.field == "billing":
        head = f"Field service: {reference} is {event.new_value}."
    elif event.field == "plan":
        head = f"Field service: {reference} planned: {event.new_value} (was {event.old_value})."
    else:
        head = f"Field service: {reference} {event.old_value} → {event.new_value} by {event.actor}."
    return f"{head}\n{event.note}".strip()


async def notify_appointments_job(ctx: dict[str, Any], plan_id: int) -> int:
    """Mail each customer of a published plan their arrival window, once per window, in their language and
    time zone (see ``helpdesk.field.appointments``). Returns how many."""
    runtime: Runtime = ctx["runtime"]
    now = runtime.clock.now()
    try:
        async with transaction(runtime.sessions) as session:
            notices = await claim_appointment_notices(session, plan_id)
            mails = [
                await queue_appointment_mail(session, now, runtime.settings, notice) for notice in notices
            ]
            await flush_mail_jobs(session, now, mails)
    except OperationalError as exc:  # SQLite: another writer; try again shortly
        raise Retry(defer=1) from exc
    await runtime.after_commit()
    return len(mails)
