"""The escalation sweep: fire the SLA warnings and breaches that have come due, each exactly once.

It selects only tickets whose ``sla_next_escalation_at`` has come (an indexed column), in batches locked with
``FOR UPDATE SKIP LOCKED`` so several workers can sweep at once; the unique key on fired levels is the second
guard. Its cost grows with the number of tickets due, not with the number of open tickets.
"""

from __future__ import annotations

import itertools
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.accounts.models import Group, GroupMember, Role, User
from helpdesk.accounts.principal import Principal
from helpdesk.core.db import transaction
from helpdesk.notifications.models import OutgoingMail
from helpdesk.notifications.rendering import render_mail
from helpdesk.notifications.service import flush_mail_jobs, queue_mail
from helpdesk.runtime import Runtime
from helpdesk.tickets import audit
from helpdesk.tickets.models import Message, Ticket
from helpdesk.tickets.rules import Channel, MessageKind, Priority
from helpdesk.tickets.sla_sync import TicketSla, raised_priority, refresh_sla
from sla.escalation import BREACH, EscalationStep
from sla.service import mark_fired_many, step_key

log = logging.getLogger(__name__)
SLA_ACTOR = Principal(name="SLA")


async def escalate_overdue(runtime: Runtime, *, batch_size: int = 500) -> int:
    """Fire every escalation step whose time has come; returns how many fired. Safe to run concurrently."""
    fired_total = 0
    while True:
        fired, selected = await _sweep_batch(runtime, batch_size)
        fired_total += fired
        if selected < batch_size:
            break
    if fired_total:
        await runtime.after_commit()
    return fired_total


async def _sweep_batch(runtime: Runtime, batch_size: int) -> tuple[int, int]:
    now = runtime.clock.now()
    fired = 0
    async with transaction(runtime.sessions) as session:
        tickets = (
            await session.scalars(
                select(Ticket)
                .where(Ticket.sla_next_escalation_at <= now)
                .order_by(Ticket.sla_next_escalation_at)
                .limit(batch_size)
                .with_for_update(skip_locked=True)
            )
        ).all()
        if not tickets:
            return 0, 0
        mails: list[OutgoingMail] = []
        changed: list[Ticket] = []
        results = await refresh_sla(session, tickets, now)
        due = [
            (result, step)
            for result in results
            for step in itertools.takewhile(lambda s: s.notify_at <= now, result.pending)
        ]
        # One statement records every due step; a step another worker recorded first is skipped.
        recorded = await mark_fired_many(session, [(r.ticket.id, step) for r, step in due], now)
        recipients = _Recipients(session)
        for result, step in due:
            if (result.ticket.id, step_key(step)) not in recorded:
                continue
            fired += 1
            if await _act(session, runtime, result, step, now, mails, recipients):
                changed.append(result.ticket)
        # Re-read what fired so each ticket's next escalation moves on to the following level.
        await refresh_sla(session, tickets, now)
        await flush_mail_jobs(session, now, mails)
    return fired, len(tickets)


class _Recipients:
    """Who gets a batch's notifications, looked up once per batch rather than once per step."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._managers: list[str] | None = None
        self._queues: dict[int, list[str]] = {}
        self._assignees: dict[int, str | None] = {}

    async def managers(self) -> list[str]:
        if self._managers is None:
            self._managers = list(
                await self.session.scalars(
                    select(User.email).where(User.role == Role.MANAGER, User.is_active.is_(True))
                )
            )
        return self._managers

    async def queue(self, ticket: Ticket) -> list[str]:
        if ticket.queue_id is None:
            return []
        if ticket.queue_id not in self._queues:
            self._queues[ticket.queue_id] = await _queue_addresses(self.session, ticket)
        return self._queues[ticket.queue_id]

    async def assignee_or_queue(self, ticket: Ticket) -> list[str]:
        if ticket.assignee_id is not None:
            if ticket.assignee_id not in self._assignees:
                # Kept here: the session's identity map holds users weakly, and every lookup that misses
                # it would also flush the mails queued so far one by one.
                user = await self.session.get(User, ticket.assignee_id)
                self._assignees[ticket.assignee_id] = (
                    user.email if user is not None and user.is_active else None
                )
            email = self._assignees[ticket.assignee_id]
            if email is not None:
                return [email]
        return await self.queue(ticket)


async def _act(
    session: AsyncSession,
    runtime: Runtime,
    result: TicketSla,
    step: EscalationStep,
    now: datetime,
    mails: list[OutgoingMail],
    recipients: _Recipients,
) -> bool:
    """Carry out the policy's actions for ``step``; True when the ticket itself changed."""
    ticket = result.ticket
    actions: list[dict[str, Any]] = result.compiled.actions.get(step.level, [])
    what = _describe(ticket, step)
    changed = False
    for action in actions:
        kind = action.get("type")
        if kind == "notify_assignee":
            addresses = await recipients.assignee_or_queue(ticket)
        elif kind == "notify_queue":
            addresses = await recipients.queue(ticket)
        elif kind == "notify_managers":
            addresses = await recipients.managers()
        else:
            addresses = []
        rendered = render_mail(
            "sla_notice",
            runtime.settings.default_language,
            reference=ticket.reference,
            link=f"{runtime.settings.base_url}/agent/tickets/{ticket.id}",
            **what,
        )
        for address in addresses:
            mails.append(
                queue_mail(
                    session,
                    now,
                    kind=f"sla_{step.level}",
                    ticket_id=ticket.id,
                    to_address=address,
                    subject=rendered.subject,
                    body_text=rendered.body_text,
                    body_html=rendered.body_html,
                )
            )
        if kind == "raise_priority":
            new = raised_priority(Priority(ticket.priority), 1)
            if new != ticket.priority:
                audit.record(
                    session,
                    now,
                    SLA_ACTOR,
                    ticket_id=ticket.id,
                    field="priority",
                    old=ticket.priority,
                    new=new,
                )
                ticket.priority = new
                changed = True
        elif kind == "reassign_group" and action.get("group_id"):
            group_id = int(action["group_id"])
            if group_id != ticket.queue_id and await session.get(Group, group_id) is not None:
                audit.record(
                    session,
                    now,
                    SLA_ACTOR,
                    ticket_id=ticket.id,
                    field="queue_id",
                    old=ticket.queue_id,
                    new=group_id,
                )
                ticket.queue_id = group_id
                changed = True
        elif kind == "internal_note":
            session.add(
                Message(
                    ticket_id=ticket.id,
                    kind=MessageKind.INTERNAL_NOTE,
                    channel=Channel.WEB,
                    author_user_id=None,
                    author_customer_id=None,
                    body_text=what["sentence"],
                    body_html="",
                    created_at=now,
                )
            )
    return changed


def _describe(ticket: Ticket, step: EscalationStep) -> dict[str, str]:
    target = step.target.value.replace("_", " ")
    at = step.at.strftime("%Y-%m-%d %H:%M UTC")
    if step.level == BREACH:
        return {
            "headline": f"breached: {target}",
            "sentence": f"SLA breached: the {target} target of {ticket.reference} was due at {at}.",
        }
    return {
        "headline": f"warning: {target} due soon",
        "sentence": f"SLA warning ({step.level}): the {target} target of {ticket.reference} is getting close "
        f"to its deadline (warning reached at {at}).",
    }


async def _queue_addresses(session: AsyncSession, ticket: Ticket) -> list[str]:
    if ticket.queue_id is None:
        return []
    group = await session.get(Group, ticket.queue_id)
    if group is not None and group.email:
        return [group.email]
    rows = await session.scalars(
        select(User.email)
        .join(GroupMember, GroupMember.user_id == User.id)
        .where(GroupMember.group_id == ticket.queue_id, User.is_active.is_(True))
    )
    return list(rows)
