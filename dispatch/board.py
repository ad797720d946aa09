"""The dispatcher's view of a day plan: each technician's visits in order with their work orders, and the
orders the plan could not place with the reason. Read-only, a fixed number of queries; the dispatcher's page
and ``helpdesk dispatch show`` both lay a plan out with it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from dispatch.models import TechnicianRow, WorkOrderRow
from dispatch.plans import PlanService
from dispatch.schemas import PlanRead, PlanVisitRead, TechnicianRead, UnscheduledRead, WorkOrderRead
from dispatch.views import technician_read, work_order_read
from helpdesk.core.context import AppContext
from helpdesk.core.principal import Principal


@dataclass
class Lane:
    technician: TechnicianRead
    visits: list[tuple[PlanVisitRead, WorkOrderRead]] = field(default_factory=list)


@dataclass
class Board:
    day: date
    plans: list[PlanRead]
    plan: PlanRead | None
    technicians: list[TechnicianRead]
    lanes: list[Lane]
    unscheduled: list[tuple[UnscheduledRead, WorkOrderRead]]


async def day_board(context: AppContext, principal: Principal, day: date, plan_id: int | None) -> Board:
    """The day's plans (newest first) and the chosen one (``plan_id`` or the newest) laid out per technician.
    Raises ``NotFound`` for an unknown plan, ``PermissionDenied`` unless the principal dispatches."""
    plans = await PlanService(context).list_plans(principal, day)
    chosen = plan_id if plan_id is not None else (plans[0].id if plans else None)
    plan = await PlanService(context).get_plan(principal, chosen) if chosen is not None else None
    async with context.sessions() as session:
        rows = await session.scalars(select(TechnicianRow).order_by(TechnicianRow.name))
        technicians = [technician_read(r) for r in rows]
        if plan is None:
            return Board(day, plans, None, technicians, [], [])
        ids = {v.work_order_id for v in plan.visits} | {u.work_order_id for u in plan.unscheduled}
        orders: dict[int, WorkOrderRead] = {}
        if ids:
            found = await session.scalars(select(WorkOrderRow).where(WorkOrderRow.id.in_(ids)))
            orders = {r.id: work_order_read(r) for r in found}
    lanes = {t.id: Lane(t) for t in technicians}
    for visit in sorted(plan.visits, key=lambda v: (v.technician_id, v.position)):
        if visit.technician_id in lanes and visit.work_order_id in orders:
            lanes[visit.technician_id].visits.append((visit, orders[visit.work_order_id]))
    unscheduled = [(u, orders[u.work_order_id]) for u in plan.unscheduled if u.work_order_id in orders]
    return Board(day, plans, plan, technicians, list(lanes.values()), unscheduled)
