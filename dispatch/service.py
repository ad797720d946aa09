"""Work orders: created from a ticket, moved through their lifecycle, completed. Every step is audited as a
``work_order_event`` and mirrored onto the ticket as an internal note by the help desk's job (outbox)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from dispatch.models import AssetRow, TechnicianRow, WorkOrderEventRow, WorkOrderRow
from dispatch.ports import TicketFacts, TicketPort
from dispatch.resources import check_skills
from dispatch.rules import TECHNICIAN_STEPS, WorkOrderStatus, check_transition, time_on_site_minutes
from dispatch.schemas import (
    AssetRead,
    CompletionRequest,
    TransitionRequest,
    WorkOrderCreate,
    WorkOrderDetail,
    WorkOrderRead,
)
from dispatch.views import work_order_detail, work_order_read
from dispatch.warranty import AssetWarranty, BillingDecision, ContractCoverage, decide_billing
from helpdesk.core.context import AppContext
from helpdesk.core.db import transaction
from helpdesk.core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from helpdesk.core.outbox import add_outbox_job
from helpdesk.core.principal import STAFF_ROLES, Principal, require_authenticated, require_role
from sla.admin import SlaAdminService
from sla.schemas import ContractRead

# The help desk's job that writes events onto their tickets (helpdesk.field.jobs).
MIRROR_JOB = "mirror_work_order_events_job"
DISPATCHERS = STAFF_ROLES


def is_dispatcher(principal: Principal) -> bool:
    return principal.is_staff and principal.role in DISPATCHERS


def record_event(
    session: AsyncSession,
    now: datetime,
    actor: Principal,
    order: WorkOrderRow,
    field: str,
    old: object,
    new: object,
    note: str = "",
    *,
    resolves_ticket: bool = False,
) -> WorkOrderEventRow:
    """Audit one step; the caller flushes and calls ``queue_mirrors`` so the ticket gets its note."""
    event = WorkOrderEventRow(
        work_order_id=order.id,
        ticket_id=order.ticket_id,
        actor=actor.label[:200],
        actor_user_id=actor.user_id,
        field=field,
        old_value=None if old is None else str(old)[:500],
        new_value=None if new is None else str(new)[:500],
        note=note,
        resolves_ticket=resolves_ticket,
        created_at=now,
    )
    session.add(event)
    return event


async def queue_mirrors(session: AsyncSession, now: datetime, events: list[WorkOrderEventRow]) -> None:
    """One job for the transaction's events, so the ticket gets its notes in order."""
    await session.flush()
    if events:
        add_outbox_job(session, now, MIRROR_JOB, [event.id for event in events])


def stale(order_id: int, sent: int, current: int) -> Conflict:
    return Conflict(
        f"WO-{order_id} was changed by someone else since you read it (you sent version {sent}, it is now "
        f"{current}); reload and try again",
        field="version",
        code="stale_version",
    )


async def technician_of(session: AsyncSession, principal: Principal) -> TechnicianRow | None:
    if principal.user_id is None:
        return None
    return await session.scalar(select(TechnicianRow).where(TechnicianRow.user_id == principal.user_id))


class WorkOrderService:
    def __init__(self, context: AppContext) -> None:
        self.context = context

    async def create_from_ticket(
        self, principal: Principal, data: WorkOrderCreate, tickets: TicketPort
    ) -> WorkOrderRead:
        """An unscheduled work order for a ticket the agent may work, with its warranty decision stored and
        audited. Raises ``InvalidInput`` naming the field (no location, a window that ends before it starts,
        an unknown skill or asset), ``NotFound``/``PermissionDenied`` for the ticket."""
        require_role(principal, *DISPATCHERS)
        facts = await tickets.ticket_facts(principal, data.ticket_id)
        now = self.context.clock.now()
        new = await prepare_work_order(self.context, facts, data, now)
        async with transaction(self.context.sessions) as session:
            row = await add_work_order(session, now, principal, new)
        await self.context.after_commit()
        return work_order_read(row)

    async def get_work_order(self, principal: Principal, order_id: int) -> WorkOrderDetail:
        async with self.context.sessions() as session:
            row = await self._visible(session, principal, order_id)
            events = list(
                await session.scalars(
                    select(WorkOrderEventRow)
                    .where(WorkOrderEventRow.work_order_id == order_id)
                    .order_by(WorkOrderEventRow.id)
                )
            )
            return work_order_detail(row, events)

    async def list_work_orders(
        self,
        principal: Principal,
        *,
        status: list[WorkOrderStatus] | None = None,
        ticket_id: int | None = None,
        day: date | None = None,
        limit: int = 100,
    ) -> list[WorkOrderRead]:
        require_role(principal, *DISPATCHERS)
        query = select(WorkOrderRow).order_by(WorkOrderRow.priority, WorkOrderRow.id).limit(limit)
        if status:
            query = query.where(WorkOrderRow.status.in_([str(s) for s in status]))
        if ticket_id is not None:
            query = query.where(WorkOrderRow.ticket_id == ticket_id)
        if day is not None:
            query = query.where(WorkOrderRow.planned_day == day)
        async with self.context.sessions() as session:
            return [work_order_read(r) for r in await session.scalars(query)]

    async def transition(self, principal: Principal, order_id: int, data: TransitionRequest) -> WorkOrderRead:
        """Move the order one lifecycle step. Technicians move their own orders en route, on site and
        cannot-complete (a reason is required); dispatchers anything. Raises ``InvalidTransition``,
        ``Conflict`` (stale version), ``InvalidInput``, ``PermissionDenied``, ``NotFound``."""
        target = WorkOrderStatus(data.status)
        if target in (WorkOrderStatus.CANNOT_COMPLETE, WorkOrderStatus.CANCELLED) and not data.reason.strip():
            raise InvalidInput(f"reason: say why the work order is {target}", field="reason")
        return await self._step(principal, order_id, data.version, target, data.reason.strip())

    async def complete(self, principal: Principal, order_id: int, data: CompletionRequest) -> WorkOrderRead:
        """Record the visit (time on site, parts, notes, the customer's sign-off) and complete the order; the
        ticket is resolved when ``all_done``, otherwise it gets a note. Raises as ``transition``."""
        return await self._step(principal, order_id, data.version, WorkOrderStatus.COMPLETED, "", data)

    async def _step(
        self,
        principal: Principal,
        order_id: int,
        version: int,
        target: WorkOrderStatus,
        reason: str,
        completion: CompletionRequest | None = None,
    ) -> WorkOrderRead:
        require_authenticated(principal)
        now = self.context.clock.now()
        try:
            async with transaction(self.context.sessions) as session:
                row = await self._visible(session, principal, order_id)
                if not is_dispatcher(principal) and target not in TECHNICIAN_STEPS:
                    raise PermissionDenied(f"only a dispatcher sets a work order {target}")
                if row.version != version:
                    raise stale(order_id, version, row.version)
                current = WorkOrderStatus(row.status)
                check_transition(current, target)
                row.status = target
                row.updated_at = now
                note, resolves = reason, False
                if target == WorkOrderStatus.ON_SITE:
                    row.arrived_at = now
                elif target in (WorkOrderStatus.CANNOT_COMPLETE, WorkOrderStatus.CANCELLED):
                    row.outcome_reason = reason[:500]
                    row.finished_at = now
                elif target == WorkOrderStatus.UNSCHEDULED:
                    _unplan(row)
                elif target == WorkOrderStatus.COMPLETED:
                    assert completion is not None
                    note, resolves = _complete(row, completion, now)
                event = record_event(
                    session, now, principal, row, "status", current, target, note, resolves_ticket=resolves
                )
                await queue_mirrors(session, now, [event])
        except StaleDataError as exc:
            raise stale(order_id, version, version + 1) from exc
        await self.context.after_commit()
        return work_order_read(row)

    async def _visible(self, session: AsyncSession, principal: Principal, order_id: int) -> WorkOrderRow:
        """The order if a dispatcher asks or it is the asking technician's; others get ``NotFound``."""
        require_authenticated(principal)
        row = await session.get(WorkOrderRow, order_id)
        if row is not None and is_dispatcher(principal):
            return row
        if principal.is_staff and principal.role == "technician":
            tech = await technician_of(session, principal)
            if row is not None and tech is not None and row.technician_id == tech.id:
                return row
            raise NotFound(f"work order {order_id} not found")
        if not principal.is_staff:
            raise PermissionDenied("work orders are for staff")
        raise NotFound(f"work order {order_id} not found")


@dataclass(frozen=True, slots=True)
class NewWorkOrder:
    """A work order checked and priced (its warranty decision made), ready for ``add_work_order``."""

    facts: TicketFacts
    data: WorkOrderCreate
    asset: AssetRow | None
    decision: BillingDecision
    windows: list[list[str]]
    address: str
    lat: float
    lon: float


async def prepare_work_order(
    context: AppContext, facts: TicketFacts, data: WorkOrderCreate, now: datetime
) -> NewWorkOrder:
    """Check ``data`` for the ticket of ``facts`` and decide who pays (``billing_for`` on the asset and its
    owner). Raises ``InvalidInput`` naming the field (no location, a window that ends before it starts, an
    unknown asset)."""
    windows = _windows(data)
    async with context.sessions() as session:
        asset = await _asset(session, data)
    owner_org = asset.organisation_id if asset and asset.organisation_id else facts.organisation_id
    owner_customer = asset.customer_id if asset and asset.customer_id else facts.customer_id
    decision, _ = await billing_for(
        context, asset, organisation_id=owner_org, customer_id=owner_customer, at=now
    )
    if data.location is not None:
        address, lat, lon = data.location.address, data.location.lat, data.location.lon
    elif asset is not None:
        address, lat, lon = asset.site_address, asset.lat, asset.lon
    else:
        raise InvalidInput("location: give the site's address and coordinates, or an asset", field="location")
    return NewWorkOrder(facts, data, asset, decision, windows, address, lat, lon)


async def add_work_order(
    session: AsyncSession, now: datetime, actor: Principal, new: NewWorkOrder, origin: str = ""
) -> WorkOrderRow:
    """Write the work order, unscheduled, in the caller's transaction, with its creation and its warranty
    decision audited (and mirrored onto the ticket after commit); ``origin`` says what made it, for the
    audit. Raises ``InvalidInput`` for a skill that is not in the catalogue."""
    await check_skills(session, new.data.required_skills, "required_skills")
    facts, data, decision = new.facts, new.data, new.decision
    row = WorkOrderRow(
        ticket_id=facts.ticket_id,
        ticket_reference=facts.reference,
        summary=facts.subject[:300],
        status=WorkOrderStatus.UNSCHEDULED,
        priority=data.priority or _priority(facts.priority),
        asset_id=new.asset.id if new.asset else None,
        customer_id=facts.customer_id,
        organisation_id=facts.organisation_id,
        contact_name=facts.contact_name,
        contact_email=facts.contact_email,
        contact_phone=facts.contact_phone,
        address=new.address,
        lat=new.lat,
        lon=new.lon,
        required_skills=dict(data.required_skills),
        required_parts=list(data.required_parts),
        duration_minutes=data.duration_minutes,
        windows=new.windows,
        deadline_at=facts.resolution_due_at,
        billing=decision.billing,
        billing_reason=decision.reason,
        contract_id=decision.contract_id,
        parts_used=[],
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    created = f"{row.address}; {row.duration_minutes} min" + (f"; {origin}" if origin else "")
    events = [
        record_event(session, now, actor, row, "created", None, row.status, created),
        record_event(session, now, actor, row, "billing", None, decision.billing, decision.reason),
    ]
    await queue_mirrors(session, now, events)
    return row


def _unplan(row: WorkOrderRow) -> None:
    row.technician_id = None
    row.planned_day = None
    row.planned_start_at = row.planned_end_at = None
    row.window_start_at = row.window_end_at = None
    row.plan_id = None


def _complete(row: WorkOrderRow, data: CompletionRequest, now: datetime) -> tuple[str, bool]:
    row.finished_at = now
    row.time_on_site_minutes = (
        data.time_on_site_minutes
        if data.time_on_site_minutes is not None
        else time_on_site_minutes(row.arrived_at, now)
    )
    row.parts_used = list(data.parts_used)
    row.completion_notes = data.notes
    row.signoff_name = data.signoff_name
    lines = [
        "All work done." if data.all_done else "Visit completed, but NOT all work is done; follow-up needed.",
        f"Time on site: {row.time_on_site_minutes} min" if row.time_on_site_minutes is not None else "",
        f"Parts used: {', '.join(data.parts_used)}" if data.parts_used else "",
        f"Signed off by: {data.signoff_name}" if data.signoff_name else "Not signed off by the customer.",
        data.notes,
    ]
    return "\n".join(line for line in lines if line), data.all_done


def _priority(ticket_priority: str) -> int:
    digits = ticket_priority.lstrip("Pp")
    return int(digits) if digits.isdigit() and 1 <= int(digits) <= 4 else 3


def _windows(data: WorkOrderCreate) -> list[list[str]]:
    out = []
    for i, window in enumerate(data.windows):
        for name, value in (("start_at", window.start_at), ("end_at", window.end_at)):
            if value.tzinfo is None:
                raise InvalidInput(
                    f"windows[{i}].{name}: give a time zone (e.g. 2027-03-01T09:00:00+01:00)",
                    field=f"windows[{i}].{name}",
                )
        if window.end_at <= window.start_at:
            raise InvalidInput(f"windows[{i}]: ends before it starts", field=f"windows[{i}]")
        out.append([window.start_at.isoformat(), window.end_at.isoformat()])
    return out


async def billing_for(
    context: AppContext,
    asset: AssetRow | AssetRead | None,
    *,
    organisation_id: int | None,
    customer_id: int | None,
    at: datetime,
) -> tuple[BillingDecision, list[ContractRead]]:
    """Whether on-site work on ``asset`` for this owner would be warranty, covered by a contract or billable
    at ``at`` (see ``dispatch.warranty.decide_billing``), and the contracts in force that were considered."""
    contracts = await SlaAdminService(context).contracts_covering(
        organisation_id=organisation_id, customer_id=customer_id, at=at
    )
    decision = decide_billing(
        AssetWarranty(asset.serial_number, asset.warranty_until, asset.warranty_terms, asset.contract_id)
        if asset
        else None,
        [ContractCoverage(c.id, c.name, tuple(c.coverage)) for c in contracts],
        at.date(),
    )
    return decision, contracts


async def _asset(session: AsyncSession, data: WorkOrderCreate) -> AssetRow | None:
    if data.asset_id is not None:
        asset = await session.get(AssetRow, data.asset_id)
        if asset is None:
            raise InvalidInput(f"asset_id: asset {data.asset_id} does not exist", field="asset_id")
        return asset
    if data.asset_serial is None:
        return None
    found = list(await session.scalars(select(AssetRow).where(AssetRow.serial_number == data.asset_serial)))
    if not found:
        raise InvalidInput(
            f"asset_serial: no asset has serial number {data.asset_serial}", field="asset_serial"
        )
    if len(found) > 1:
        raise InvalidInput(
            f"asset_serial: {len(found)} products have serial number {data.asset_serial}; give asset_id",
            field="asset_serial",
        )
    return found[0]


__all__ = ["DISPATCHERS", "MIRROR_JOB", "WorkOrderService", "is_dispatcher"]
