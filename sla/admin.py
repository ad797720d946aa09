"""SLA administration: calendars, policies and contracts, validated so no ticket is left without deadlines."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.core.context import AppContext
from helpdesk.core.db import transaction
from helpdesk.core.errors import Conflict, InvalidInput, NotFound
from sla.calendar import CalendarSpec, calendar_from_spec, start_of_local_day
from sla.defaults import DEFAULT_ACTIONS
from sla.models import CalendarRow, ContractRow, PolicyRow
from sla.rules import SlaPolicy
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
        """A contract starting at ``valid_from``, or at midnight of ``starts_on`` in the zone of the policy's
        business calendar; stored in UTC. Raises ``InvalidInput`` naming the field: no start or two, no policy,
        no or two owners, an unknown owner, an end before the start."""
        start = _contract_start(data)
        if (data.organisation_id is None) == (data.customer_id is None):
            raise InvalidInput("give exactly one of organisation_id and customer_id", field="organisation_id")
        if data.valid_to is not None and data.valid_to.tzinfo is None:
            raise InvalidInput("valid_to needs a UTC offset, e.g. 2027-01-01T00:00:00Z", field="valid_to")
        async with transaction(self.context.sessions) as session:
            policy = await session.get(PolicyRow, data.policy_id)
            if policy is None:
                raise InvalidInput(f"policy {data.policy_id} does not exist", field="policy_id")
            valid_from = (
                start
                if isinstance(start, datetime)
                else start_of_local_day(start, await _calendar_zone(session, policy))
            )
            if data.valid_to is not None and data.valid_to <= valid_from:
                raise InvalidInput("valid_to must be after valid_from", field="valid_to")
            row = ContractRow(
                name=data.name,
                organisation_id=data.organisation_id,
                customer_id=data.customer_id,
                policy_id=data.policy_id,
                valid_from=valid_from,
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


def _contract_start(data: ContractCreate) -> datetime | date:
    """The one start given: an aware instant, or a day that starts in the policy's calendar's zone."""
    if data.starts_on is not None and data.valid_from is not None:
        raise InvalidInput("give starts_on or valid_from, not both", field="valid_from")
    if data.valid_from is not None:
        if data.valid_from.tzinfo is None:
            raise InvalidInput(
                "valid_from needs a UTC offset, e.g. 2027-01-01T00:00:00Z, or give starts_on (a day)",
                field="valid_from",
            )
        return data.valid_from
    if data.starts_on is None:
        raise InvalidInput("starts_on (a day) or valid_from (an instant) is required", field="starts_on")
    return data.starts_on


async def _calendar_zone(session: AsyncSession, policy: PolicyRow) -> ZoneInfo:
    """The zone of ``policy``'s business calendar: where its customers' days begin and its hours are counted."""
    calendar = await session.get(CalendarRow, policy.calendar_id)
    return ZoneInfo(msgspec.convert(calendar.spec, CalendarSpec).timezone if calendar else "UTC")


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
