"""The field service's standing data: the skill catalogue, assets and technicians (admins write)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping

import msgspec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.models import AssetRow, SkillRow, TechnicianRow
from dispatch.ports import TicketPort
from dispatch.problem import parse_clock_interval
from dispatch.schemas import (
    AssetCreate,
    AssetRead,
    SkillCreate,
    SkillRead,
    TechnicianCreate,
    TechnicianRead,
    TechnicianUpdate,
)
from dispatch.views import asset_read, technician_read
from helpdesk.core.context import AppContext
from helpdesk.core.db import transaction
from helpdesk.core.errors import Conflict, InvalidInput, NotFound
from helpdesk.core.principal import Role
from sla.calendar import CalendarSpec, calendar_from_spec


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def check_skills(session: AsyncSession, skills: Mapping[str, int], field: str) -> None:
    """Raise ``InvalidInput`` naming ``field.<skill>`` for a skill that is not in the catalogue."""
    if not skills:
        return
    known = set((await session.scalars(select(SkillRow.name).where(SkillRow.name.in_(skills)))).all())
    for name in skills:
        if name not in known:
            raise InvalidInput(
                f"{field}.{name}: unknown skill; add it to the catalogue first (POST /api/v1/dispatch/skills)",
                field=f"{field}.{name}",
            )


class SkillService:
    def __init__(self, context: AppContext) -> None:
        self.context = context

    async def create_skill(self, data: SkillCreate) -> SkillRead:
        """Add a skill to the catalogue. Raises ``Conflict`` for a name that exists."""
        try:
            async with transaction(self.context.sessions) as session:
                row = SkillRow(
                    name=data.name, description=data.description, created_at=self.context.clock.now()
                )
                session.add(row)
                await session.flush()
        except IntegrityError as exc:
            raise Conflict(f"skill {data.name!r} exists already", field="name") from exc
        return SkillRead(id=row.id, name=row.name, description=row.description)

    async def list_skills(self) -> list[SkillRead]:
        async with self.context.sessions() as session:
            rows = await session.scalars(select(SkillRow).order_by(SkillRow.name))
            return [SkillRead(id=r.id, name=r.name, description=r.description) for r in rows]


class AssetService:
    def __init__(self, context: AppContext) -> None:
        self.context = context

    async def create_asset(self, data: AssetCreate) -> AssetRead:
        """Register an asset. Raises ``Conflict`` when the product already has this serial number and
        ``InvalidInput`` for an installation after the warranty's end or an unknown owner or contract."""
        if data.installed_on and data.warranty_until and data.warranty_until < data.installed_on:
            raise InvalidInput("warranty_until: ends before the installation date", field="warranty_until")
        now = self.context.clock.now()
        row = AssetRow(**msgspec.structs.asdict(data), created_at=now, updated_at=now)
        try:
            async with transaction(self.context.sessions) as session:
                session.add(row)
                await session.flush()
        except IntegrityError as exc:
            message = str(exc.orig).lower()
            if "unique" in message or "duplicate" in message:
                raise Conflict(
                    f"{data.product} {data.serial_number} is registered already", field="serial_number"
                ) from exc
            raise InvalidInput(
                "organisation_id, customer_id or contract_id names nothing that exists", field="contract_id"
            ) from exc
        return asset_read(row)

    async def get_asset(self, asset_id: int) -> AssetRead:
        async with self.context.sessions() as session:
            row = await session.get(AssetRow, asset_id)
            if row is None:
                raise NotFound(f"asset {asset_id} not found")
            return asset_read(row)

    async def list_assets(
        self, *, organisation_id: int | None = None, serial_number: str | None = None, limit: int = 100
    ) -> list[AssetRead]:
        query = select(AssetRow).order_by(AssetRow.id).limit(limit)
        if organisation_id is not None:
            query = query.where(AssetRow.organisation_id == organisation_id)
        if serial_number is not None:
            query = query.where(AssetRow.serial_number == serial_number)
        async with self.context.sessions() as session:
            return [asset_read(r) for r in await session.scalars(query)]


class TechnicianService:
    def __init__(self, context: AppContext, tickets: TicketPort) -> None:
        self.context = context
        self.tickets = tickets

    def _ical_url(self, token: str) -> str:
        return f"{self.context.settings.base_url}/dispatch/ical/{token}.ics"

    async def create_technician(self, data: TechnicianCreate) -> TechnicianRead:
        """Make a staff user with the role technician plannable. Raises ``InvalidInput`` naming the field
        (a user who is not an active technician, unknown skills, no working hours, a bad lunch window) and
        ``Conflict`` when the user is a technician already. The calendar URL is in the answer, once."""
        staff = await self.tickets.staff_member(data.user_id)
        if staff is None or not staff.is_active or staff.role != Role.TECHNICIAN:
            raise InvalidInput(
                f"user_id: user {data.user_id} is not an active staff user with the role technician",
                field="user_id",
            )
        _check_hours(data.hours)
        _check_lunch(data.lunch_window, data.lunch_minutes)
        token = secrets.token_urlsafe(24)
        now = self.context.clock.now()
        row = TechnicianRow(
            user_id=data.user_id,
            name=staff.name,
            skills=dict(data.skills),
            home_address=data.home_address,
            home_lat=data.home_lat,
            home_lon=data.home_lon,
            hours=msgspec.to_builtins(data.hours),
            overtime={day.isoformat(): minutes for day, minutes in data.overtime.items()},
            lunch_window=data.lunch_window,
            lunch_minutes=data.lunch_minutes,
            daily_limit_minutes=data.daily_limit_minutes,
            ical_token_hash=hash_token(token),
            is_active=True,
            created_at=now,
            updated_at=now,
        )
        try:
            async with transaction(self.context.sessions) as session:
                await check_skills(session, data.skills, "skills")
                session.add(row)
                await session.flush()
        except IntegrityError as exc:
            raise Conflict(f"user {data.user_id} is a technician already", field="user_id") from exc
        return technician_read(row, self._ical_url(token))

    async def update_technician(self, technician_id: int, data: TechnicianUpdate) -> TechnicianRead:
        """Change skills, home, hours, exceptions, breaks or limits. Raises as ``create_technician``."""
        async with transaction(self.context.sessions) as session:
            row = await _technician(session, technician_id)
            changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
            if "skills" in changes:
                await check_skills(session, changes["skills"], "skills")
            if "hours" in changes:
                _check_hours(changes["hours"])
                changes["hours"] = msgspec.to_builtins(changes["hours"])
            if "overtime" in changes:
                changes["overtime"] = {d.isoformat(): m for d, m in changes["overtime"].items()}
            for name, value in changes.items():
                setattr(row, name, value)
            _check_lunch(row.lunch_window, row.lunch_minutes)
            row.updated_at = self.context.clock.now()
            return technician_read(row)

    async def rotate_ical_token(self, technician_id: int) -> TechnicianRead:
        """A new secret calendar URL; the old one stops working at once."""
        token = secrets.token_urlsafe(24)
        async with transaction(self.context.sessions) as session:
            row = await _technician(session, technician_id)
            row.ical_token_hash = hash_token(token)
            row.updated_at = self.context.clock.now()
            return technician_read(row, self._ical_url(token))

    async def get_technician(self, technician_id: int) -> TechnicianRead:
        async with self.context.sessions() as session:
            return technician_read(await _technician(session, technician_id))

    async def list_technicians(self) -> list[TechnicianRead]:
        async with self.context.sessions() as session:
            rows = await session.scalars(select(TechnicianRow).order_by(TechnicianRow.name))
            return [technician_read(r) for r in rows]


async def _technician(session: AsyncSession, technician_id: int) -> TechnicianRow:
    row = await session.get(TechnicianRow, technician_id)
    if row is None:
        raise NotFound(f"technician {technician_id} not found")
    return row


def _check_hours(spec: CalendarSpec) -> None:
    try:
        calendar_from_spec(spec)
    except InvalidInput as exc:
        field = f"hours.{exc.field}" if exc.field else "hours"
        raise InvalidInput(f"hours.{exc.detail}", field=field) from exc


def _check_lunch(window: str | None, minutes: int) -> None:
    if window is None:
        return
    start, end = parse_clock_interval(window, "lunch_window")
    if minutes > end - start:
        raise InvalidInput(
            f"lunch_minutes: {minutes} minutes do not fit the lunch window {window}", field="lunch_minutes"
        )
