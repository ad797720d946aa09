"""Technicians' job lists: per technician and day for the API and the phone page, and the calendar feed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.ical import render_calendar
from dispatch.models import AssetRow, TechnicianRow, WorkOrderRow
from dispatch.ports import HistoryEntry, TicketPort
from dispatch.resources import hash_token
from dispatch.rules import WorkOrderStatus
from dispatch.schemas import AssetSummary, HistoryRead, JobList, JobRead
from dispatch.service import is_dispatcher, technician_of
from helpdesk.core.context import AppContext
from helpdesk.core.errors import NotFound, PermissionDenied
from helpdesk.core.principal import Principal, require_authenticated

HISTORY_MESSAGES = 3
FEED_DAYS_BACK = 7
FEED_DAYS_AHEAD = 30


def geo_uri(lat: float, lon: float) -> str:
    """RFC 5870: phones open it in their maps app."""
    return f"geo:{lat:.6f},{lon:.6f}"


class JobListService:
    def __init__(self, context: AppContext, tickets: TicketPort) -> None:
        self.context = context
        self.tickets = tickets

    async def job_list(self, principal: Principal, day: date, technician_id: int | None = None) -> JobList:
        """The technician's jobs of ``day`` in planned order. Technicians see their own list only (another's
        is ``NotFound``); dispatchers name any technician. Raises ``NotFound``, ``PermissionDenied``."""
        require_authenticated(principal)
        async with self.context.sessions() as session:
            tech = await self._technician(session, principal, technician_id)
            orders = await _orders(session, tech.id, day, day)
            assets = await _assets(session, orders)
        # The ticket domain reads through a connection of its own: asked once this one is back in the pool,
        # so a request never holds two (with the pool taken, every such request would wait for a second).
        histories = (
            await self.tickets.public_history({o.ticket_id for o in orders}, limit=HISTORY_MESSAGES)
            if orders
            else {}
        )
        return JobList(
            technician_id=tech.id,
            technician_name=tech.name,
            day=day,
            jobs=_jobs(orders, assets, histories),
            time_zone=str(tech.hours.get("timezone") or "UTC"),
        )

    async def calendar_feed(self, token: str) -> bytes:
        """The iCalendar feed of the technician whose secret ``token`` this is; ``NotFound`` otherwise."""
        today = self.context.clock.now().date()
        async with self.context.sessions() as session:
            tech = await session.scalar(
                select(TechnicianRow).where(TechnicianRow.ical_token_hash == hash_token(token))
            )
            if tech is None or not tech.is_active:
                raise NotFound("no calendar at this address")
            orders = await _orders(
                session,
                tech.id,
                today - timedelta(days=FEED_DAYS_BACK),
                today + timedelta(days=FEED_DAYS_AHEAD),
            )
            assets = await _assets(session, orders)
        return render_calendar(tech.name, _jobs(orders, assets, {}), self.context.settings.base_url)

    async def _technician(
        self, session: AsyncSession, principal: Principal, technician_id: int | None
    ) -> TechnicianRow:
        own = await technician_of(session, principal)
        if technician_id is None or (own is not None and own.id == technician_id):
            if own is None:
                raise NotFound("you are not a technician; name one with technician_id")
            return own
        if not is_dispatcher(principal):
            if principal.is_staff:
                raise NotFound(f"technician {technician_id} not found")
            raise PermissionDenied("job lists are for staff")
        tech = await session.get(TechnicianRow, technician_id)
        if tech is None:
            raise NotFound(f"technician {technician_id} not found")
        return tech


async def _orders(session: AsyncSession, technician_id: int, first: date, last: date) -> list[WorkOrderRow]:
    rows = await session.scalars(
        select(WorkOrderRow)
        .where(
            WorkOrderRow.technician_id == technician_id,
            WorkOrderRow.planned_day >= first,
            WorkOrderRow.planned_day <= last,
            WorkOrderRow.status != WorkOrderStatus.CANCELLED,
        )
        .order_by(WorkOrderRow.planned_start_at, WorkOrderRow.id)
    )
    return list(rows)


async def _assets(session: AsyncSession, orders: list[WorkOrderRow]) -> dict[int, AssetRow]:
    asset_ids = {o.asset_id for o in orders if o.asset_id}
    if not asset_ids:
        return {}
    return {a.id: a for a in await session.scalars(select(AssetRow).where(AssetRow.id.in_(asset_ids)))}


def _jobs(
    orders: list[WorkOrderRow], assets: dict[int, AssetRow], histories: Mapping[int, Sequence[HistoryEntry]]
) -> list[JobRead]:
    jobs = []
    for position, order in enumerate(orders):
        asset = assets.get(order.asset_id or 0)
        jobs.append(
            JobRead(
                work_order_id=order.id,
                reference=order.reference,
                status=WorkOrderStatus(order.status),
                version=order.version,
                position=position,
                planned_start_at=order.planned_start_at,
                planned_end_at=order.planned_end_at,
                window_start_at=order.window_start_at,
                window_end_at=order.window_end_at,
                address=order.address,
                lat=order.lat,
                lon=order.lon,
                geo_uri=geo_uri(order.lat, order.lon),
                contact_name=order.contact_name,
                contact_email=order.contact_email,
                contact_phone=order.contact_phone,
                asset=AssetSummary(
                    id=asset.id,
                    serial_number=asset.serial_number,
                    product=asset.product,
                    model=asset.model,
                    warranty_until=asset.warranty_until,
                )
                if asset
                else None,
                billing=order.billing,  # type: ignore[arg-type]
                billing_reason=order.billing_reason,
                ticket_id=order.ticket_id,
                ticket_reference=order.ticket_reference,
                summary=order.summary,
                history=[
                    HistoryRead(author=h.author, body=h.body, created_at=h.created_at)
                    for h in histories.get(order.ticket_id, [])
                ],
                required_parts=list(order.required_parts),
                required_skills=dict(order.required_skills),
                duration_minutes=order.duration_minutes,
            )
        )
    return jobs
