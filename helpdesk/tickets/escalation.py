"""The escalation sweep: fire the SLA warnings and breaches that have come due, each exactly once.

Every recompute of a ticket schedules its coming steps (``sla_scheduled_step``, indexed by ``notify_at``); the
sweep claims the due ones in batches with ``FOR UPDATE SKIP LOCKED`` so several workers can sweep at once,
records them as fired (a unique key is the second guard) and queues their actions as jobs. It evaluates no
ticket and runs a handful of set-based statements per batch: its cost grows with the number of steps due, not
with the number of open tickets.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
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
from helpdesk.notifications.rendering import Reader, RenderedMail, reader_of, render_mail_for, render_text_for
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
NOTICE = "sla_notice"


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


@dataclass(frozen=True, slots=True)
class _Recipient:
    """An address a notice goes to, with the language and zone of the staff member behind it (none for a
    group's shared mailbox: the help desk's defaults)."""

    address: str
    language: str | None = None
    time_zone: str | None = None


_RECIPIENT_COLUMNS = (User.email, User.language, User.time_zone)


class _Recipients:
    """Who gets a batch's notifications, looked up once per batch rather than once per step."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._managers: list[_Recipient] | None = None
        self._queues: dict[int, list[_Recipient]] = {}
        self._assignees: dict[int, _Recipient | None] = {}

    async def managers(self) -> list[_Recipient]:
        if self._managers is None:
            rows = await self.session.execute(
                select(*_RECIPIENT_COLUMNS).where(User.role == Role.MANAGER, User.is_active.is_(True))
            )
            self._managers = [_Recipient(*row) for row in rows]
        return self._managers

    async def queue(self, ticket: Ticket) -> list[_Recipient]:
        if ticket.queue_id is None:
            return []
        if ticket.queue_id not in self._queues:
            self._queues[ticket.queue_id] = await _queue_addresses(self.session, ticket)
        return self._queues[ticket.queue_id]

    async def assignee_or_queue(self, ticket: Ticket) -> list[_Recipient]:
        if ticket.assignee_id is not None:
            if ticket.assignee_id not in self._assignees:
                # Kept here: the session's identity map holds users weakly, and every lookup that misses
                # it would also flush the mails queued so far one by one.
                user = await self.session.get(User, ticket.assignee_id)
                self._assignees[ticket.assignee_id] = (
                    _Recipient(user.email, user.language, user.time_zone)
                    if user is not None and user.is_active
                    else None
                )
            recipient = self._assignees[ticket.assignee_id]
            if recipient is not None:
                return [recipient]
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
    """Carry out ``actions`` for ``step``; True when the ticket itself changed. Each notice is worded in its
    reader's language with the times in their zone (a staff member's settings, else the help desk's defaults)."""
    values = _notice_values(runtime, ticket, step)
    rendered: dict[Reader, RenderedMail] = {}
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
        for recipient in addresses:
            reader = reader_of(recipient.language, recipient.time_zone, runtime.settings)
            if reader not in rendered:
                rendered[reader] = render_mail_for(reader, NOTICE, **values)
            mail = rendered[reader]
            mails.append(
                queue_mail(
                    session,
                    now,
                    kind=f"sla_{step.level}",
                    ticket_id=ticket.id,
                    to_address=recipient.address,
                    subject=mail.subject,
                    body_text=mail.body_text,
                    body_html=mail.body_html,
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
                    # One text for everyone who opens the ticket: the help desk's language and zone.
                    body_text=render_text_for(
                        reader_of(None, None, runtime.settings), f"{NOTICE}.note", **values
                    ),
                    body_html="",
                    created_at=now,
                )
            )
    return changed


def _notice_values(runtime: Runtime, ticket: Ticket, step: EscalationStep) -> dict[str, Any]:
    """What the ``sla_notice`` templates word: the target, breach or warning (``warning_2`` is warning "2") and
    the instant, which the templates show in the reader's zone."""
    number = step.level.rpartition("_")[2]
    return {
        "reference": ticket.reference,
        "link": f"{runtime.settings.base_url}/agent/tickets/{ticket.id}",
        "target": step.target.value,
        "breach": step.level == BREACH,
        "warning": number if number.isdigit() else step.level,
        "at": step.at,
    }


async def _queue_addresses(session: AsyncSession, ticket: Ticket) -> list[_Recipient]:
    if ticket.queue_id is None:
        return []
    group = await session.get(Group, ticket.queue_id)
    if group is not None and group.email:
        return [_Recipient(group.email)]
    rows = await session.execute(
        select(*_RECIPIENT_COLUMNS)
        .join(GroupMember, GroupMember.user_id == User.id)
        .where(GroupMember.group_id == ticket.queue_id, User.is_active.is_(True))
    )
    return [_Recipient(*row) for row in rows]
