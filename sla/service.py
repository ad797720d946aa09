"""SLA administration (calendars, policies, contracts) and the per-ticket bookkeeping the ticket service calls.

The ticket service owns the transaction; the functions taking a ``session`` run inside it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import msgspec
from sqlalchemy import Table, and_, delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.core.context import AppContext
from helpdesk.core.db import transaction
from helpdesk.core.errors import Conflict, InvalidInput, NotFound
from sla.calendar import ALWAYS_OPEN, BusinessCalendar, CalendarSpec, calendar_from_spec
from sla.defaults import DEFAULT_ACTIONS, DEFAULT_CALENDAR, DEFAULT_POLICY
from sla.escalation import EscalationStep
from sla.models import CalendarRow, ContractRow, EscalationFiredRow, PolicyRow, TargetStateRow, TicketSlaRow
from sla.rules import SlaPolicy, SlaStatus
from sla.schemas import (
    CalendarCreate,
    CalendarRead,
    CalendarUpdate,
    ContractCreate,
    ContractRead,
    EscalationAction,
    PolicyCreate,
    PolicyRead,
    PolicyUpdate,
)

PRIORITIES = ("P1", "P2", "P3", "P4")


@dataclass(frozen=True)
class ResolvedPolicy:
    """The policy that applies to a new ticket, and the contract that chose it (if any)."""

    policy_id: int | None
    policy_version: int
    contract_id: int | None
    tier: int
    policy_spec: dict[str, Any]
    calendar_spec: dict[str, Any]
    actions: dict[str, Any]
    notify_any_hour: bool


@dataclass(frozen=True)
class CompiledPolicy:
    policy: SlaPolicy
    calendar: BusinessCalendar
    notification_calendar: BusinessCalendar
    actions: dict[str, list[dict[str, Any]]]


def compile_policy(sla: TicketSlaRow) -> CompiledPolicy:
    """The pure-rule objects for a ticket's snapshot (cached: many tickets share one snapshot)."""
    return _compile(
        json.dumps(sla.policy_spec, sort_keys=True),
        json.dumps(sla.calendar_spec, sort_keys=True),
        json.dumps(sla.actions, sort_keys=True),
        sla.notify_any_hour,
    )


@lru_cache(maxsize=256)
def _compile(policy_json: str, calendar_json: str, actions_json: str, any_hour: bool) -> CompiledPolicy:
    calendar = calendar_from_spec(msgspec.json.decode(calendar_json, type=CalendarSpec))
    return CompiledPolicy(
        policy=msgspec.json.decode(policy_json, type=SlaPolicy),
        calendar=calendar,
        notification_calendar=ALWAYS_OPEN if any_hour else calendar,
        actions=json.loads(actions_json),
    )


async def resolve_policy(
    session: AsyncSession, *, organisation_id: int | None, customer_id: int | None, at: datetime
) -> ResolvedPolicy:
    """The customer's contract valid at ``at``, else the organisation's, else the default policy."""
    owners = [ContractRow.customer_id == customer_id] if customer_id is not None else []
    if organisation_id is not None:
        owners.append(ContractRow.organisation_id == organisation_id)
    contract = None
    if owners:
        contract = await session.scalar(
            select(ContractRow)
            .where(
                or_(*owners),
                ContractRow.valid_from <= at,
                or_(ContractRow.valid_to.is_(None), ContractRow.valid_to > at),
            )
            # A contract of the customer beats one of the organisation; the newest wins among equals.
            .order_by(ContractRow.customer_id.is_(None), ContractRow.valid_from.desc())
            .limit(1)
        )
    policy = None
    if contract is not None:
        policy = await session.get(PolicyRow, contract.policy_id)
    if policy is None:
        policy = await session.scalar(select(PolicyRow).where(PolicyRow.is_default.is_(True)).limit(1))
    if policy is None:
        return ResolvedPolicy(None, 0, None, 0, DEFAULT_POLICY, DEFAULT_CALENDAR, DEFAULT_ACTIONS, False)
    calendar = await session.get(CalendarRow, policy.calendar_id)
    assert calendar is not None
    return ResolvedPolicy(
        policy_id=policy.id,
        policy_version=policy.version,
        contract_id=contract.id if contract is not None else None,
        tier=contract.tier if contract is not None else 0,
        policy_spec=policy.spec,
        calendar_spec=calendar.spec,
        actions=policy.actions,
        notify_any_hour=policy.notify_any_hour,
    )


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
    row = TicketSlaRow(
        ticket_id=ticket_id,
        policy_id=resolved.policy_id,
        policy_version=resolved.policy_version,
        contract_id=resolved.contract_id,
        policy_spec=resolved.policy_spec,
        calendar_spec=resolved.calendar_spec,
        actions=resolved.actions,
        notify_any_hour=resolved.notify_any_hour,
        assigned_at=now,
    )
    session.add(row)
    return row


async def record_targets(session: AsyncSession, statuses: Mapping[int, SlaStatus]) -> None:
    """Store each target's state for reporting (replacing the previous states of these tickets).

    One DELETE for all the tickets and one batched INSERT: a sweep refreshes hundreds of tickets at a time.
    """
    if not statuses:
        return
    await session.execute(delete(TargetStateRow).where(TargetStateRow.ticket_id.in_(list(statuses))))
    session.add_all(
        TargetStateRow(
            ticket_id=ticket_id,
            target=target.target.value,
            state=target.state.value,
            target_minutes=target.target_minutes,
            clock_started_at=target.clock_started_at,
            due_at=target.due_at,
            met_at=target.met_at,
            breached_at=target.breached_at,
            margin_minutes=round(target.margin_minutes, 2),
        )
        for ticket_id, status in statuses.items()
        for target in status.targets
    )


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


class SlaAdminService:
    """Calendars, policies and contracts. Every write is validated so no ticket is left without deadlines."""

    def __init__(self, context: AppContext) -> None:
        self.context = context

    async def create_calendar(self, data: CalendarCreate) -> CalendarRead:
        _check_calendar(data.calendar)
        now = self.context.clock.now()
        async with transaction(self.context.sessions) as session:
            row = CalendarRow(
                name=data.name, spec=msgspec.to_builtins(data.calendar), created_at=now, updated_at=now
            )
            session.add(row)
            await _flush_unique(session, f"a calendar named {data.name!r} exists already")
            return _calendar_read(row)

    async def update_calendar(self, calendar_id: int, data: CalendarUpdate) -> CalendarRead:
        async with transaction(self.context.sessions) as session:
            row = await session.get(CalendarRow, calendar_id)
            if row is None:
                raise NotFound(f"calendar {calendar_id} not found")
            if data.name is not msgspec.UNSET:
                row.name = data.name
            if data.calendar is not msgspec.UNSET:
                _check_calendar(data.calendar)
                row.spec = msgspec.to_builtins(data.calendar)
                # Policies counting in this calendar change too: their tickets move on by a recompute.
                for policy in await session.scalars(select(PolicyRow).where(PolicyRow.calendar_id == row.id)):
                    policy.version += 1
            row.updated_at = self.context.clock.now()
            await _flush_unique(session, "a calendar with that name exists already")
            return _calendar_read(row)

    async def list_calendars(self) -> list[CalendarRead]:
        async with self.context.sessions() as session:
            return [
                _calendar_read(r)
                for r in await session.scalars(select(CalendarRow).order_by(CalendarRow.name))
            ]

    async def create_policy(self, data: PolicyCreate) -> PolicyRead:
        now = self.context.clock.now()
        async with transaction(self.context.sessions) as session:
            if await session.get(CalendarRow, data.calendar_id) is None:
                raise InvalidInput(f"calendar {data.calendar_id} does not exist", field="calendar_id")
            spec = _policy_spec(data.targets, data.warnings, data.pausing_statuses)
            actions = msgspec.to_builtins(data.actions) if data.actions is not None else DEFAULT_ACTIONS
            _check_actions(actions, len(data.warnings))
            if data.is_default:
                await _clear_default(session)
            row = PolicyRow(
                name=data.name,
                calendar_id=data.calendar_id,
                spec=spec,
                actions=actions,
                notify_any_hour=data.notify_any_hour,
                is_default=data.is_default,
                version=1,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            await _flush_unique(session, f"a policy named {data.name!r} exists already")
            return _policy_read(row)

    async def update_policy(self, policy_id: int, data: PolicyUpdate) -> PolicyRead:
        """Change a policy and bump its version; tickets keep their snapshot until ``recompute_sla`` runs."""
        async with transaction(self.context.sessions) as session:
            row = await session.get(PolicyRow, policy_id)
            if row is None:
                raise NotFound(f"policy {policy_id} not found")
            current = msgspec.convert(row.spec, SlaPolicy)
            targets = data.targets if data.targets is not msgspec.UNSET else current.targets
            warnings = data.warnings if data.warnings is not msgspec.UNSET else list(current.warnings)
            pausing = (
                data.pausing_statuses
                if data.pausing_statuses is not msgspec.UNSET
                else sorted(current.pausing_statuses)
            )
            row.spec = _policy_spec(targets, warnings, pausing)
            if data.actions is not msgspec.UNSET:
                row.actions = msgspec.to_builtins(data.actions)
            _check_actions(row.actions, len(warnings))
            if data.calendar_id is not msgspec.UNSET:
                if await session.get(CalendarRow, data.calendar_id) is None:
                    raise InvalidInput(f"calendar {data.calendar_id} does not exist", field="calendar_id")
                row.calendar_id = data.calendar_id
            if data.name is not msgspec.UNSET:
                row.name = data.name
            if data.notify_any_hour is not msgspec.UNSET:
                row.notify_any_hour = data.notify_any_hour
            if data.is_default is not msgspec.UNSET:
                if data.is_default:
                    await _clear_default(session)
                row.is_default = data.is_default
            row.version += 1
            row.updated_at = self.context.clock.now()
            await _flush_unique(session, "a policy with that name exists already")
            return _policy_read(row)

    async def list_policies(self) -> list[PolicyRead]:
        async with self.context.sessions() as session:
            return [
                _policy_read(r) for r in await session.scalars(select(PolicyRow).order_by(PolicyRow.name))
            ]

    async def create_contract(self, data: ContractCreate) -> ContractRead:
        """Raises ``InvalidInput`` naming the field: no policy, no or two owners, an unknown owner, an end
        before the start."""
        if (data.organisation_id is None) == (data.customer_id is None):
            raise InvalidInput("give exactly one of organisation_id and customer_id", field="organisation_id")
        if data.valid_from.tzinfo is None or (data.valid_to is not None and data.valid_to.tzinfo is None):
            raise InvalidInput(
                "valid_from and valid_to need a UTC offset, e.g. 2027-01-01T00:00:00Z", field="valid_from"
            )
        if data.valid_to is not None and data.valid_to <= data.valid_from:
            raise InvalidInput("valid_to must be after valid_from", field="valid_to")
        async with transaction(self.context.sessions) as session:
            if await session.get(PolicyRow, data.policy_id) is None:
                raise InvalidInput(f"policy {data.policy_id} does not exist", field="policy_id")
            row = ContractRow(
                name=data.name,
                organisation_id=data.organisation_id,
                customer_id=data.customer_id,
                policy_id=data.policy_id,
                valid_from=data.valid_from,
                valid_to=data.valid_to,
                tier=data.tier,
                coverage=list(data.coverage),
                created_at=self.context.clock.now(),
            )
            session.add(row)
            try:
                await session.flush()
            except IntegrityError as exc:
                field = "organisation_id" if data.organisation_id is not None else "customer_id"
                owner = data.organisation_id if data.organisation_id is not None else data.customer_id
                raise InvalidInput(
                    f"{field.removesuffix('_id')} {owner} does not exist", field=field
                ) from exc
            return _contract_read(row)

    async def list_contracts(self, *, organisation_id: int | None = None) -> list[ContractRead]:
        query = select(ContractRow).order_by(ContractRow.valid_from.desc())
        if organisation_id is not None:
            query = query.where(ContractRow.organisation_id == organisation_id)
        async with self.context.sessions() as session:
            return [_contract_read(r) for r in await session.scalars(query)]

    async def contracts_covering(
        self, *, organisation_id: int | None, customer_id: int | None, at: datetime
    ) -> list[ContractRead]:
        """Contracts in force at ``at`` for the customer or their organisation (warranty decisions read this)."""
        owners = []
        if customer_id is not None:
            owners.append(ContractRow.customer_id == customer_id)
        if organisation_id is not None:
            owners.append(ContractRow.organisation_id == organisation_id)
        if not owners:
            return []
        query = select(ContractRow).where(
            or_(*owners),
            and_(
                ContractRow.valid_from <= at, or_(ContractRow.valid_to.is_(None), ContractRow.valid_to > at)
            ),
        )
        async with self.context.sessions() as session:
            return [_contract_read(r) for r in await session.scalars(query)]


def _check_calendar(spec: CalendarSpec) -> None:
    try:
        calendar_from_spec(spec)
    except InvalidInput as exc:
        raise InvalidInput(
            f"calendar.{exc.detail}", field=f"calendar.{exc.field}" if exc.field else "calendar"
        ) from exc


def _policy_spec(
    targets: Mapping[Any, Any], warnings: Iterable[Any], pausing: Iterable[str]
) -> dict[str, Any]:
    missing = [p for p in PRIORITIES if p not in targets]
    if missing:
        raise InvalidInput(
            f"targets: every priority needs targets, missing {', '.join(missing)}",
            field=f"targets.{missing[0]}",
        )
    spec = {
        "targets": msgspec.to_builtins(targets),
        "warnings": msgspec.to_builtins(list(warnings)),
        "pausing_statuses": sorted(set(pausing)),
    }
    msgspec.convert(spec, SlaPolicy)  # raises InvalidInput from __post_init__ checks
    return spec


def _check_actions(actions: dict[str, Any], warning_count: int) -> None:
    for level, items in actions.items():
        if level.startswith("warning_") and int(level.removeprefix("warning_")) > warning_count:
            raise InvalidInput(
                f"actions.{level}: the policy has only {warning_count} warning level(s)",
                field=f"actions.{level}",
            )
        for index, item in enumerate(items):
            if item.get("type") == "reassign_group" and not item.get("group_id"):
                raise InvalidInput(
                    "reassign_group needs group_id", field=f"actions.{level}[{index}].group_id"
                )


async def _clear_default(session: AsyncSession) -> None:
    for row in await session.scalars(select(PolicyRow).where(PolicyRow.is_default.is_(True))):
        row.is_default = False


async def _flush_unique(session: AsyncSession, message: str) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(message, field="name") from exc


def _calendar_read(row: CalendarRow) -> CalendarRead:
    return CalendarRead(
        id=row.id, name=row.name, calendar=msgspec.convert(row.spec, CalendarSpec), updated_at=row.updated_at
    )


def _policy_read(row: PolicyRow) -> PolicyRead:
    policy = msgspec.convert(row.spec, SlaPolicy)
    return PolicyRead(
        id=row.id,
        name=row.name,
        calendar_id=row.calendar_id,
        targets=dict(policy.targets),
        warnings=list(policy.warnings),
        pausing_statuses=sorted(policy.pausing_statuses),
        actions=msgspec.convert(row.actions, dict[str, list[EscalationAction]]),
        notify_any_hour=row.notify_any_hour,
        is_default=row.is_default,
        version=row.version,
        updated_at=row.updated_at,
    )


def _contract_read(row: ContractRow) -> ContractRead:
    return ContractRead(
        id=row.id,
        name=row.name,
        policy_id=row.policy_id,
        organisation_id=row.organisation_id,
        customer_id=row.customer_id,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        tier=row.tier,
        coverage=list(row.coverage),
    )
