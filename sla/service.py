"""The per-ticket SLA bookkeeping the ticket service and the sweep call (administration is in ``sla.admin``;
which policy a new ticket gets is in ``sla.resolution``, its terms in ``sla.terms``).

The ticket service owns the transaction; the functions taking a ``session`` run inside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, Table, delete, func, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from helpdesk.core.errors import NotFound
from sla.escalation import EscalationStep
from sla.models import (
    CalendarRow,
    EscalationFiredRow,
    PolicyRow,
    ScheduledStepRow,
    TargetStateRow,
    TicketSlaRow,
)
from sla.resolution import resolve_policy
from sla.rules import SlaStatus
from sla.terms import CompiledPolicy, ResolvedPolicy, compile_policy, compile_spec

# Moved out, still importable from here: the ticket service and the sweep import them from this module.
__all__ = ["CompiledPolicy", "ResolvedPolicy", "compile_policy", "compile_spec", "resolve_policy"]


async def load_snapshots(session: AsyncSession, ticket_ids: Iterable[int]) -> dict[int, TicketSlaRow]:
    """Each ticket's policy snapshot, by ticket id (tickets without one are absent)."""
    ids = list(ticket_ids)
    if not ids:
        return {}
    rows = await session.scalars(select(TicketSlaRow).where(TicketSlaRow.ticket_id.in_(ids)))
    return {row.ticket_id: row for row in rows}


async def tickets_behind(session: AsyncSession, policy_id: int, *, limit: int = 1000) -> list[int]:
    """Tickets whose snapshot of ``policy_id`` is older than the policy's current version."""
    policy = await session.get(PolicyRow, policy_id)
    if policy is None:
        raise NotFound(f"policy {policy_id} not found")
    rows = await session.scalars(
        select(TicketSlaRow.ticket_id)
        .where(TicketSlaRow.policy_id == policy_id, TicketSlaRow.policy_version < policy.version)
        .order_by(TicketSlaRow.ticket_id)
        .limit(limit)
    )
    return list(rows)


async def resnapshot(session: AsyncSession, ticket_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """Move each ticket's snapshot to its policy's current version; returns ticket → (old, new) version."""
    changed: dict[int, tuple[int, int]] = {}
    for row in (await load_snapshots(session, ticket_ids)).values():
        if row.policy_id is None:
            continue
        policy = await session.get(PolicyRow, row.policy_id)
        calendar = await session.get(CalendarRow, policy.calendar_id) if policy is not None else None
        if policy is None or calendar is None or policy.version == row.policy_version:
            continue
        changed[row.ticket_id] = (row.policy_version, policy.version)
        row.policy_version = policy.version
        row.policy_spec = policy.spec
        row.calendar_spec = calendar.spec
        row.actions = policy.actions
        row.notify_any_hour = policy.notify_any_hour
    return changed


def attach_policy(
    session: AsyncSession, ticket_id: int, resolved: ResolvedPolicy, now: datetime
) -> TicketSlaRow:
    row = TicketSlaRow(**policy_snapshot(ticket_id, resolved, now))
    session.add(row)
    return row


def policy_snapshot(ticket_id: int, resolved: ResolvedPolicy, now: datetime) -> dict[str, Any]:
    """The values of a new ticket's ``ticket_sla`` row: a frozen copy of the policy it runs under."""
    return {
        "ticket_id": ticket_id,
        "policy_id": resolved.policy_id,
        "policy_version": resolved.policy_version,
        "contract_id": resolved.contract_id,
        "policy_spec": resolved.policy_spec,
        "calendar_spec": resolved.calendar_spec,
        "actions": resolved.actions,
        "notify_any_hour": resolved.notify_any_hour,
        "assigned_at": now,
    }


async def record_targets(
    session: AsyncSession, statuses: Mapping[int, SlaStatus], *, replace: bool = True
) -> None:
    """Store each target's state for reporting (replacing the previous states of these tickets).

    One DELETE for all the tickets and one batched INSERT: a sweep refreshes hundreds of tickets at a time.
    """
    if not statuses:
        return
    if replace:
        await session.execute(delete(TargetStateRow).where(TargetStateRow.ticket_id.in_(list(statuses))))
    rows = [row for ticket_id, status in statuses.items() for row in target_rows(ticket_id, status)]
    if not rows:
        return
    # An upsert: two transactions refreshing one ticket at once (a reply and a job's note) both delete and
    # then insert; the second must overwrite the first's rows, not fail on their key.
    dialect = session.get_bind().dialect.name
    insert_for = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert_for(TargetStateRow)
    statement = statement.on_conflict_do_update(
        index_elements=["ticket_id", "target"],
        set_={name: statement.excluded[name] for name in rows[0] if name not in ("ticket_id", "target")},
    )
    await session.execute(statement, rows)


def target_rows(ticket_id: int, status: SlaStatus) -> list[dict[str, Any]]:
    """The values of the ``ticket_sla_target`` rows: each target's state."""
    return [
        {
            "ticket_id": ticket_id,
            "target": target.target.value,
            "state": target.state.value,
            "target_minutes": target.target_minutes,
            "clock_started_at": target.clock_started_at,
            "due_at": target.due_at,
            "met_at": target.met_at,
            "breached_at": target.breached_at,
            "margin_minutes": round(target.margin_minutes, 2),
            "stopped_at": status.stopped_at,
        }
        for target in status.targets
    ]


def step_rows(ticket_id: int, steps: Sequence[EscalationStep]) -> list[dict[str, Any]]:
    """The values of the ``sla_scheduled_step`` rows: the steps still to notify."""
    return [
        {
            "ticket_id": ticket_id,
            "target": step.target.value,
            "level": step.level,
            "clock_started_at": step.clock_started_at,
            "at": step.at,
            "notify_at": step.notify_at,
        }
        for step in steps
    ]


FiredKey = tuple[str, str, datetime]


async def fired_levels(session: AsyncSession, ticket_ids: Iterable[int]) -> dict[int, set[FiredKey]]:
    """(target, level, clock start) of every level already fired, per ticket."""
    ids = list(ticket_ids)
    result: dict[int, set[FiredKey]] = {i: set() for i in ids}
    if ids:
        rows = await session.execute(
            select(
                EscalationFiredRow.ticket_id,
                EscalationFiredRow.target,
                EscalationFiredRow.level,
                EscalationFiredRow.clock_started_at,
            ).where(EscalationFiredRow.ticket_id.in_(ids))
        )
        for ticket_id, target, level, started in rows:
            result[ticket_id].add((target, level, started))
    return result


def step_key(step: EscalationStep) -> FiredKey:
    return (step.target.value, step.level, step.clock_started_at)


def pending_steps(status: SlaStatus, fired: set[FiredKey]) -> list[EscalationStep]:
    """The escalation steps of the current clock cycles that have not fired yet, earliest first."""
    return [step for step in status.escalations if step_key(step) not in fired]


async def mark_fired(session: AsyncSession, ticket_id: int, step: EscalationStep, now: datetime) -> bool:
    """Record that ``step`` fired; False if another worker recorded it first (then do nothing more)."""
    return bool(await mark_fired_many(session, [(ticket_id, step)], now))


async def mark_fired_many(
    session: AsyncSession, steps: Sequence[tuple[int, EscalationStep]], now: datetime
) -> set[tuple[int, FiredKey]]:
    """Record that each (ticket, step) fired, in one statement; returns those this call recorded.

    A step another worker recorded first is left out of the answer (then do nothing more for it): the unique
    key turns the second insert into a no-op (``ON CONFLICT DO NOTHING``) instead of an error.
    """
    if not steps:
        return set()
    table = EscalationFiredRow.__table__
    assert isinstance(table, Table)
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    rows = [
        {
            "ticket_id": ticket_id,
            "target": step.target.value,
            "level": step.level,
            "clock_started_at": step.clock_started_at,
            "due_at": step.at,
            "fired_at": now,
        }
        for ticket_id, step in steps
    ]
    key = (table.c.ticket_id, table.c.target, table.c.level, table.c.clock_started_at)
    recorded: set[tuple[int, FiredKey]] = set()
    # Chunks keep the bound parameters well under the drivers' limits (six per row).
    for start in range(0, len(rows), 1000):
        statement = (
            insert(table)
            .values(rows[start : start + 1000])
            .on_conflict_do_nothing(index_elements=list(key))
            .returning(*key)
        )
        for ticket_id, target, level, started in await session.execute(statement):
            recorded.add((ticket_id, (target, level, started)))
    return recorded


async def schedule_steps(
    session: AsyncSession, pending: Mapping[int, Sequence[EscalationStep]], *, replace: bool = True
) -> None:
    """Replace the scheduled (not yet fired) escalation steps of these tickets (``replace=False``: new
    tickets, which have none yet)."""
    if not pending:
        return
    if replace:
        await session.execute(delete(ScheduledStepRow).where(ScheduledStepRow.ticket_id.in_(list(pending))))
    rows = [row for ticket_id, steps in pending.items() for row in step_rows(ticket_id, steps)]
    if rows:
        table = ScheduledStepRow.__table__
        assert isinstance(table, Table)
        await session.execute(table.insert(), rows)


@dataclass(frozen=True)
class FiredStep:
    id: int
    ticket_id: int
    target: str
    level: str


async def fire_due_steps(session: AsyncSession, now: datetime, limit: int) -> tuple[list[FiredStep], int]:
    """Claim up to ``limit`` scheduled steps whose ``notify_at`` has come, unschedule them and record them as
    fired. Returns the steps this call fired (a step another worker fired first is left out) and how many were
    claimed. Claimed with ``FOR UPDATE SKIP LOCKED``: concurrent sweepers take disjoint batches.
    """
    if session.get_bind().dialect.name == "postgresql":
        # One statement: claim and unschedule (DELETE … RETURNING), then record (INSERT … ON CONFLICT DO
        # NOTHING RETURNING). Nothing travels to Python and back but the fired ids.
        rows = (
            await session.execute(
                text(
                    "WITH due AS ("
                    "  SELECT ticket_id, target, level, clock_started_at FROM sla_scheduled_step"
                    "  WHERE notify_at <= :now ORDER BY notify_at LIMIT :limit FOR UPDATE SKIP LOCKED),"
                    " claimed AS ("
                    "  DELETE FROM sla_scheduled_step s USING due"
                    "  WHERE (s.ticket_id, s.target, s.level, s.clock_started_at)"
                    "      = (due.ticket_id, due.target, due.level, due.clock_started_at)"
                    "  RETURNING s.ticket_id, s.target, s.level, s.clock_started_at, s.at),"
                    " fired AS ("
                    "  INSERT INTO sla_escalation (ticket_id, target, level, clock_started_at, due_at, fired_at)"
                    "  SELECT ticket_id, target, level, clock_started_at, at, :now FROM claimed"
                    "  ON CONFLICT ON CONSTRAINT uq_sla_escalation_once DO NOTHING"
                    "  RETURNING id, ticket_id, target, level)"
                    " SELECT (SELECT count(*) FROM claimed), id, ticket_id, target, level FROM fired"
                    " UNION ALL SELECT (SELECT count(*) FROM claimed), NULL, NULL, NULL, NULL"
                    " WHERE NOT EXISTS (SELECT 1 FROM fired)"
                ),
                {"now": now, "limit": limit},
            )
        ).all()
        claimed_count = int(rows[0][0]) if rows else 0
        return [FiredStep(r[1], r[2], r[3], r[4]) for r in rows if r[1] is not None], claimed_count
    return await _fire_due_steps_portable(session, now, limit)


async def _fire_due_steps_portable(
    session: AsyncSession, now: datetime, limit: int
) -> tuple[list[FiredStep], int]:
    """The same in several statements, for SQLite (no data-modifying CTEs there)."""
    table = ScheduledStepRow.__table__
    fired_table = EscalationFiredRow.__table__
    assert isinstance(table, Table)
    assert isinstance(fired_table, Table)
    claimed = (
        await session.execute(
            select(table).where(table.c.notify_at <= now).order_by(table.c.notify_at).limit(limit)
        )
    ).all()
    if not claimed:
        return [], 0
    rows = [
        {
            "ticket_id": row.ticket_id,
            "target": row.target,
            "level": row.level,
            "clock_started_at": row.clock_started_at,
            "due_at": row.at,
            "fired_at": now,
        }
        for row in claimed
    ]
    key = (fired_table.c.ticket_id, fired_table.c.target, fired_table.c.level, fired_table.c.clock_started_at)
    fired: list[FiredStep] = []
    # Chunks keep the bound parameters well under the driver's limit (six per row).
    for start in range(0, len(rows), 500):
        statement = (
            sqlite_insert(fired_table)
            .values(rows[start : start + 500])
            .on_conflict_do_nothing(index_elements=list(key))
            .returning(fired_table.c.id, fired_table.c.ticket_id, fired_table.c.target, fired_table.c.level)
        )
        fired.extend(FiredStep(*row) for row in await session.execute(statement))
    await session.execute(
        delete(table).where(
            tuple_(table.c.ticket_id, table.c.target, table.c.level, table.c.clock_started_at).in_(
                [(r.ticket_id, r.target, r.level, r.clock_started_at) for r in claimed]
            )
        )
    )
    return fired, len(claimed)


def next_notify_at(ticket_id: ColumnElement[int] | QueryableAttribute[int]) -> ScalarSelect[datetime]:
    """The earliest scheduled notification of the ticket whose id is ``ticket_id`` (a correlated subquery)."""
    return (
        select(func.min(ScheduledStepRow.notify_at))
        .where(ScheduledStepRow.ticket_id == ticket_id)
        .scalar_subquery()
    )


async def claim_actions(
    session: AsyncSession, fired_ids: Sequence[int], now: datetime
) -> list[EscalationFiredRow]:
    """The fired levels among ``fired_ids`` whose actions are still to run, marked as run (the others were
    done already, or are being done by another worker right now)."""
    rows = list(
        await session.scalars(
            select(EscalationFiredRow)
            .where(EscalationFiredRow.id.in_(list(fired_ids)), EscalationFiredRow.actions_done_at.is_(None))
            .order_by(EscalationFiredRow.id)
            .with_for_update(skip_locked=True)
        )
    )
    for row in rows:
        row.actions_done_at = now
    return rows
