"""The escalation sweep: fire the SLA warnings and breaches that have come due, each exactly once.

Every recompute of a ticket schedules its coming steps (``sla_scheduled_step``, indexed by ``notify_at``); the
sweep claims the due ones in batches with ``FOR UPDATE SKIP LOCKED`` so several workers can sweep at once,
records them as fired (a unique key is the second guard) and queues their actions as jobs. It evaluates no
ticket and runs a handful of set-based statements per batch: its cost grows with the number of steps due, not
with the number of open tickets.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.accounts.models import Group, GroupMember, Role, User
from helpdesk.accounts.principal import Principal
from helpdesk.core import live
from helpdesk.core.db import transaction
from helpdesk.core.outbox import OutboxEvent
from helpdesk.notifications.models import OutgoingMail
from helpdesk.notifications.rendering import render_mail
from helpdesk.notifications.service import flush_mail_jobs, queue_mail
from helpdesk.runtime import Runtime
from helpdesk.tickets import audit
from helpdesk.tickets.models import Message, Ticket
from helpdesk.tickets.rules import Channel, MessageKind, Priority
from helpdesk.tickets.sla_sync import raised_priority, refresh_sla
from sla.escalation import BREACH, EscalationStep
from sla.service import claim_actions, compile_policy, fire_due_steps, load_snapshots, next_notify_at
from sla.targets import SlaTarget

log = logging.getLogger(__name__)
SLA_ACTOR = Principal(name="SLA")
ACTIONS_JOB = "sla_escalation_actions_job"
ACTIONS_CHUNK = 200


async def escalate_overdue(runtime: Runtime, *, batch_size: int = 1000) -> int:
    """Fire every escalation step whose time has come; returns how many fired. Safe to run concurrently.

    Firing records the level (once: a unique key) and queues its actions as an id-only job through the outbox;
    ``run_escalation_actions`` then notifies, notes and re-prioritises.
    """
    fired_total = 0
    while True:
        fired, claimed_all = await _sweep_batch(runtime, batch_size)
        fired_total += fired
        if not claimed_all:
            break
    if fired_total:
        await runtime.after_commit()
    return fired_total


async def _sweep_batch(runtime: Runtime, batch_size: int) -> tuple[int, bool]:
    """One batch in one transaction; returns how many fired and whether the batch was full (more may wait)."""
    now = runtime.clock.now()
    async with transaction(runtime.sessions) as session:
        fired, claimed = await fire_due_steps(session, now, batch_size)
        # One actions job per chunk of fired levels, not one per level: a thousand due is a handful of jobs.
        # The job also moves each ticket's sla_next_escalation_at on to its next scheduled step.
        outbox = OutboxEvent.__table__
        assert isinstance(outbox, Table)
        chunks = [
            [step.id for step in fired[i : i + ACTIONS_CHUNK]] for i in range(0, len(fired), ACTIONS_CHUNK)
        ]
        if chunks:
            await session.execute(
                outbox.insert(),
                [{"job": ACTIONS_JOB, "args": [chunk], "created_at": now} for chunk in chunks],
            )
    return len(fired), claimed >= batch_size


async def run_escalation_actions(runtime: Runtime, fired_ids: list[int]) -> int:
    """Carry out the policies' actions for fired levels, each once (the fired row's ``actions_done_at``);
    returns how many levels were acted on."""
    now = runtime.clock.now()
    async with transaction(runtime.sessions) as session:
        claimed = await claim_actions(session, fired_ids, now)
        if not claimed:
            return 0
        ticket_ids = sorted({fired.ticket_id for fired in claimed})
        # Each ticket's next escalation moves on to its next scheduled step (or none).
        await session.execute(
            update(Ticket)
            .where(Ticket.id.in_(ticket_ids))
            .values(sla_next_escalation_at=next_notify_at(Ticket.id)),
            execution_options={"synchronize_session": False},
        )
        tickets = {t.id: t for t in await session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids)))}
        snapshots = await load_snapshots(session, ticket_ids)
        mails: list[OutgoingMail] = []
        recipients = _Recipients(session)
        refresh: dict[int, Ticket] = {}
        for fired in claimed:
            ticket, snapshot = tickets.get(fired.ticket_id), snapshots.get(fired.ticket_id)
            if ticket is None or snapshot is None:
                continue
            step = EscalationStep(
                target=SlaTarget(fired.target),
                level=fired.level,
                at=fired.due_at,
                notify_at=fired.fired_at,
                clock_started_at=fired.clock_started_at,
                fired=True,
            )
            actions: list[dict[str, Any]] = compile_policy(snapshot).actions.get(step.level, [])
            changed = await _act(session, runtime, ticket, actions, step, now, mails, recipients)
            if changed or step.level == BREACH:
                # A breach changes the target's state (what reports read); a raised priority changes deadlines.
                refresh[ticket.id] = ticket
        await refresh_sla(session, list(refresh.values()), now)
        await flush_mail_jobs(session, now, mails)
    await runtime.after_commit()
    for level in sorted({fired.level for fired in claimed}):
        ids = sorted({fired.ticket_id for fired in claimed if fired.level == level})
        await live.announce(runtime, "escalated", ids, level=level)
    return len(claimed)


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
    ticket: Ticket,
    actions: list[dict[str, Any]],
    step: EscalationStep,
    now: datetime,
    mails: list[OutgoingMail],
    recipients: _Recipients,
) -> bool:
    """Carry out ``actions`` for ``step``; True when the ticket itself changed."""
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
