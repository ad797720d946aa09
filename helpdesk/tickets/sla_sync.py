"""Keeping a ticket's SLA deadlines current: build its timeline from the conversation and status history,
evaluate the pure SLA rules, and store the deadline columns and target states.

The deadline columns are written with a plain UPDATE, not through the ORM, so recomputing them does not bump
the ticket's ``version``: only a change a person could see makes another agent's edit stale.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import msgspec
from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from helpdesk.core.db import TableRow, table_of, transaction
from helpdesk.core.principal import SYSTEM
from helpdesk.customers.models import Customer
from helpdesk.runtime import Runtime
from helpdesk.tickets import audit
from helpdesk.tickets.models import AuditEvent, Message, Ticket
from helpdesk.tickets.rules import OPEN_STATUSES, MessageKind, Priority
from sla.choice import PolicyCache
from sla.escalation import EscalationStep
from sla.models import ScheduledStepRow, TargetStateRow, TicketSlaRow
from sla.rules import SlaStatus, StatusChange, TicketTimeline, evaluate_sla
from sla.schemas import PauseRead, TargetRead, TicketSlaRead
from sla.service import (
    CompiledPolicy,
    FiredKey,
    ResolvedPolicy,
    attach_policy,
    compile_policy,
    fired_levels,
    load_snapshots,
    pending_steps,
    policy_snapshot,
    record_targets,
    resnapshot,
    resolve_policy,
    schedule_steps,
    step_rows,
    target_rows,
    tickets_behind,
)

_POLICY_CACHE = "sla_policy_cache"
_SNAPSHOTS, _TARGETS, _STEPS = (table_of(model) for model in (TicketSlaRow, TargetStateRow, ScheduledStepRow))

DEADLINE_COLUMNS = (
    "first_response_due_at",
    "next_response_due_at",
    "resolution_due_at",
    "sla_due_at",
    "sla_next_escalation_at",
)


@dataclass(frozen=True)
class TicketSla:
    ticket: Ticket
    compiled: CompiledPolicy
    status: SlaStatus
    pending: list[EscalationStep]


def policy_cache(runtime: Runtime) -> PolicyCache:
    """The process's cache of SLA policy terms (per runtime: tests run several databases in one process)."""
    cache = runtime.extras.get(_POLICY_CACHE)
    if not isinstance(cache, PolicyCache):
        cache = runtime.extras[_POLICY_CACHE] = PolicyCache()
    return cache


async def policy_for_new_ticket(
    session: AsyncSession, customer: Customer, now: datetime, *, cache: PolicyCache | None = None
) -> ResolvedPolicy:
    return await resolve_policy(
        session, organisation_id=customer.organisation_id, customer_id=customer.id, at=now, cache=cache
    )


def raised_priority(priority: Priority, levels: int) -> Priority:
    """``levels`` steps more urgent, never beyond P1 (a contract tier, or the raise_priority action)."""
    order = list(Priority)
    return order[max(0, order.index(priority) - levels)]


def new_ticket_sla(ticket: Ticket, resolved: ResolvedPolicy, now: datetime) -> list[TableRow]:
    """A new ticket's SLA from one evaluation: fills its deadline columns (its INSERT carries them) and
    returns the rows to insert with it (``insert_now``): the policy snapshot, the targets' states and the
    escalation steps. A new ticket has no history, nothing fired and nothing stored yet, so its timeline is
    built in memory."""
    status = _new_ticket_status(ticket, resolved)
    _set_deadlines(ticket, status)
    return [
        (_SNAPSHOTS, policy_snapshot(ticket.id, resolved, now)),
        *((_TARGETS, row) for row in target_rows(ticket.id, status)),
        *((_STEPS, row) for row in step_rows(ticket.id, pending_steps(status, set()))),
    ]


def preset_deadlines(ticket: Ticket, resolved: ResolvedPolicy) -> None:
    """Fill a new ticket's deadline columns before it is inserted, so the INSERT carries them and
    ``start_sla`` finds nothing to update (one statement fewer on every ticket opened)."""
    _set_deadlines(ticket, _new_ticket_status(ticket, resolved))


def _new_ticket_status(ticket: Ticket, resolved: ResolvedPolicy) -> SlaStatus:
    compiled = resolved.compile()
    timeline = TicketTimeline(
        created_at=ticket.created_at, priority=ticket.priority, initial_status=ticket.status
    )
    return evaluate_sla(
        compiled.policy,
        compiled.calendar,
        timeline,
        ticket.created_at,
        notification_calendar=compiled.notification_calendar,
    )


def _set_deadlines(ticket: Ticket, status: SlaStatus) -> None:
    # Nothing has fired on a new ticket: every escalation step is pending.
    ticket.first_response_due_at = status.first_response_due_at
    ticket.next_response_due_at = status.next_response_due_at
    ticket.resolution_due_at = status.resolution_due_at
    ticket.sla_due_at = status.sla_due_at
    ticket.sla_next_escalation_at = min((step.notify_at for step in status.escalations), default=None)


async def start_sla(session: AsyncSession, ticket: Ticket, resolved: ResolvedPolicy, now: datetime) -> None:
    """Give a ticket created in this transaction its policy and first deadlines.

    A new ticket has no history, nothing fired and nothing stored yet, so its timeline is built in memory and
    nothing is read back or deleted (the intake path: a handful of statements fewer per ticket).
    """
    snapshot = attach_policy(session, ticket.id, resolved, now)
    timeline = TicketTimeline(
        created_at=ticket.created_at, priority=ticket.priority, initial_status=ticket.status
    )
    await session.flush()
    await _evaluate_and_store(session, [ticket], {ticket.id: snapshot}, {ticket.id: timeline}, {}, fresh=True)


async def refresh_sla(session: AsyncSession, tickets: Sequence[Ticket], now: datetime) -> list[TicketSla]:
    """Recompute and store the deadlines of ``tickets`` (batched: a fixed number of queries for any count)."""
    if not tickets:
        return []
    await session.flush()
    ids = [t.id for t in tickets]
    snapshots = await load_snapshots(session, ids)
    timelines = await _timelines(session, [t for t in tickets if t.id in snapshots])
    fired = await fired_levels(session, snapshots)
    return await _evaluate_and_store(session, tickets, snapshots, timelines, fired, now=now)


async def _evaluate_and_store(
    session: AsyncSession,
    tickets: Sequence[Ticket],
    snapshots: Mapping[int, TicketSlaRow],
    timelines: Mapping[int, TicketTimeline],
    fired: Mapping[int, set[FiredKey]],
    *,
    now: datetime | None = None,
    fresh: bool = False,
) -> list[TicketSla]:
    results = []
    for ticket in tickets:
        snapshot = snapshots.get(ticket.id)
        if snapshot is None:
            continue
        compiled = compile_policy(snapshot)
        status = evaluate_sla(
            compiled.policy,
            compiled.calendar,
            timelines[ticket.id],
            now or ticket.created_at,
            notification_calendar=compiled.notification_calendar,
        )
        pending = pending_steps(status, fired.get(ticket.id, set()))
        results.append(TicketSla(ticket, compiled, status, pending))
    await _store(session, results)
    await record_targets(session, {r.ticket.id: r.status for r in results}, replace=not fresh)
    await schedule_steps(session, {r.ticket.id: r.pending for r in results}, replace=not fresh)
    return results


async def _store(session: AsyncSession, results: Sequence[TicketSla]) -> None:
    """Write the changed deadline columns with one batched UPDATE (executemany) for all the tickets."""
    changed = []
    for result in results:
        status, ticket = result.status, result.ticket
        values = {
            "first_response_due_at": status.first_response_due_at,
            "next_response_due_at": status.next_response_due_at,
            "resolution_due_at": status.resolution_due_at,
            "sla_due_at": status.sla_due_at,
            "sla_next_escalation_at": min((s.notify_at for s in result.pending), default=None),
        }
        if all(getattr(ticket, k) == v for k, v in values.items()):
            continue
        changed.append({"ticket_id_": ticket.id, **values})
        for key, value in values.items():
            set_committed_value(ticket, key, value)
    if changed:
        table = Ticket.__table__
        assert isinstance(table, Table)
        await session.execute(update(table).where(table.c.id == bindparam("ticket_id_")), changed)


async def _timelines(session: AsyncSession, tickets: Sequence[Ticket]) -> dict[int, TicketTimeline]:
    ids = [t.id for t in tickets]
    changes: dict[int, list[StatusChange]] = defaultdict(list)
    first_status: dict[int, str] = {}
    if ids:
        rows = await session.execute(
            select(AuditEvent.ticket_id, AuditEvent.old_value, AuditEvent.new_value, AuditEvent.created_at)
            .where(AuditEvent.ticket_id.in_(ids), AuditEvent.field == "status")
            .order_by(AuditEvent.id)
        )
        for ticket_id, old, new, at in rows:
            assert ticket_id is not None
            first_status.setdefault(ticket_id, old or "new")
            if new:
                changes[ticket_id].append(StatusChange(at=at, status=new))
    customer: dict[int, list[datetime]] = defaultdict(list)
    replies: dict[int, list[datetime]] = defaultdict(list)
    if ids:
        rows2 = await session.execute(
            select(Message.ticket_id, Message.kind, Message.created_at)
            .where(Message.ticket_id.in_(ids), Message.kind != MessageKind.INTERNAL_NOTE)
            .order_by(Message.created_at, Message.id)
        )
        for ticket_id, kind, at in rows2:
            (customer if kind == MessageKind.CUSTOMER_MESSAGE else replies)[ticket_id].append(at)
    timelines = {}
    for ticket in tickets:
        messages = customer[ticket.id]
        # The message that opened the ticket is not a "further" customer message.
        if messages and messages[0] <= ticket.created_at:
            messages = messages[1:]
        timelines[ticket.id] = TicketTimeline(
            created_at=ticket.created_at,
            priority=ticket.priority,
            initial_status=first_status.get(ticket.id, ticket.status),
            status_changes=tuple(changes[ticket.id]),
            customer_messages=tuple(messages),
            agent_public_replies=tuple(replies[ticket.id]),
        )
    return timelines


async def recompute_policy(runtime: Runtime, policy_id: int) -> int:
    """Move the open tickets of ``policy_id`` to its current version, audited; returns how many moved.

    Idempotent: a ticket already on the current version is left alone.
    """
    moved = 0
    while True:
        now = runtime.clock.now()
        async with transaction(runtime.sessions) as session:
            ids = await tickets_behind(session, policy_id, limit=500)
            if not ids:
                return moved
            tickets = list(await session.scalars(select(Ticket).where(Ticket.id.in_(ids)).with_for_update()))
            open_ids = [t.id for t in tickets if t.status in OPEN_STATUSES]
            # Closed and resolved tickets keep the terms they were worked under.
            changed = await resnapshot(session, ids)
            for ticket_id, (old, new) in changed.items():
                if ticket_id in open_ids:
                    audit.record(
                        session,
                        now,
                        SYSTEM,
                        ticket_id=ticket_id,
                        field="sla_policy_version",
                        old=old,
                        new=new,
                    )
            await refresh_sla(session, [t for t in tickets if t.id in open_ids], now)
            moved += len(changed)


async def sla_view(session: AsyncSession, ticket: Ticket, now: datetime) -> TicketSlaRead | None:
    """Each target's live state and the pauses with who paused (for the agent's side panel)."""
    snapshots = await load_snapshots(session, [ticket.id])
    snapshot = snapshots.get(ticket.id)
    if snapshot is None:
        return None
    compiled = compile_policy(snapshot)
    timeline = (await _timelines(session, [ticket]))[ticket.id]
    fired = (await fired_levels(session, [ticket.id]))[ticket.id]
    status = evaluate_sla(
        compiled.policy,
        compiled.calendar,
        timeline,
        now,
        notification_calendar=compiled.notification_calendar,
    )
    actors = {
        (at, new): actor
        for at, new, actor in await session.execute(
            select(AuditEvent.created_at, AuditEvent.new_value, AuditEvent.actor).where(
                AuditEvent.ticket_id == ticket.id, AuditEvent.field == "status"
            )
        )
    }
    pending = pending_steps(status, fired)
    return TicketSlaRead(
        ticket_id=ticket.id,
        policy_id=snapshot.policy_id,
        policy_version=snapshot.policy_version,
        contract_id=snapshot.contract_id,
        targets=[TargetRead(**msgspec.structs.asdict(t)) for t in status.targets],
        pauses=[
            PauseRead(
                status=p.status,
                started_at=p.started_at,
                ended_at=p.ended_at,
                paused_by=actors.get((p.started_at, p.status)),
            )
            for p in status.pauses
        ],
        next_escalation_at=min((s.notify_at for s in pending), default=None),
    )
