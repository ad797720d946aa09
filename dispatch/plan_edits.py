"""A dispatcher's review of a plan: move a visit by hand (validated), and publish the plan.

Publishing puts each planned work order on its technician's day with an arrival window and tells the
customer (the help desk's ``notify_appointments_job``, through the outbox); orders the plan could not place
go back to unscheduled with the reason.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from dispatch.models import PlanRow, PlanVisitRow, TechnicianRow, WorkOrderRow
from dispatch.planning import Plan, Route, Unscheduled, UnscheduledReason, Visit, WorkOrder
from dispatch.plans import (
    PlanStatus,
    active_technicians,
    load_plan,
    plan_visits,
    store_summary,
    travel_provider,
)
from dispatch.problem import DayProblem, build_problem, plan_from_rows
from dispatch.rules import PLANNABLE, STARTED, WorkOrderStatus, appointment_window
from dispatch.schemas import MoveRequest, PlanRead
from dispatch.service import DISPATCHERS, queue_mirrors, record_event
from dispatch.timing import ProblemIndex, index_problem, time_route
from dispatch.validator import Violation, validate_plan
from dispatch.views import plan_read
from helpdesk.core.context import AppContext
from helpdesk.core.db import transaction
from helpdesk.core.errors import InvalidInput, InvalidTransition
from helpdesk.core.outbox import add_outbox_job
from helpdesk.core.principal import Principal, require_role

# The help desk's job that mails the customer their appointment window (helpdesk.field.jobs).
NOTIFY_JOB = "notify_appointments_job"


class InvalidMove(InvalidInput):
    code = "invalid_move"

    def __init__(self, violations: list[Violation]) -> None:
        listed = "; ".join(
            f"{v.code}: {'WO-' + v.work_order_id if v.work_order_id else 'technician ' + str(v.technician_id)}"
            f" {v.detail}"
            for v in violations
        )
        super().__init__(f"the move breaks the plan: {listed}", field="technician_id")
        self.violations = violations


class PlanEditService:
    def __init__(self, context: AppContext) -> None:
        self.context = context

    async def move(self, principal: Principal, plan_id: int, data: MoveRequest) -> PlanRead:
        """Put a visit on a technician's route at a position (or unplan it), re-time the changed routes and
        re-check the whole plan with ``validate_plan``. Raises ``InvalidMove`` (422, the violations listed),
        ``InvalidTransition`` unless the plan is done and not yet published, ``InvalidInput``."""
        require_role(principal, *DISPATCHERS)
        async with transaction(self.context.sessions) as session:
            row = await load_plan(session, plan_id)
            if row.status != PlanStatus.DONE:
                raise InvalidTransition(
                    f"plan {plan_id} is {row.status}; only a done plan is edited", field="status"
                )
            visits = await plan_visits(session, plan_id)
            ids = {v.work_order_id for v in visits} | {int(u["work_order_id"]) for u in row.unscheduled}
            if data.work_order_id not in ids:
                raise InvalidInput(
                    f"work_order_id: WO-{data.work_order_id} is not in plan {plan_id}", field="work_order_id"
                )
            techs = await active_technicians(session)
            orders = list(await session.scalars(select(WorkOrderRow).where(WorkOrderRow.id.in_(ids))))
            started = {
                o.id: o.technician_id
                for o in orders
                if WorkOrderStatus(o.status) in STARTED and o.technician_id
            }
            plan = plan_from_rows(row.routes, visits, row.unscheduled)
            with travel_provider(self.context) as travel:
                day = build_problem(row.day, techs, orders, travel, pinned=started, day_start=row.day_start)
                moved, ix = await asyncio.to_thread(_apply_move, day, plan, data)
                violations = await asyncio.to_thread(validate_plan, day.problem, moved, ix)
            if violations:
                raise InvalidMove(violations)
            await session.execute(delete(PlanVisitRow).where(PlanVisitRow.plan_id == plan_id))
            await session.flush()
            new_visits = _visit_rows(plan_id, moved)
            session.add_all(new_visits)
            skipped = tuple(u for u in day.skipped if u.work_order_id != str(data.work_order_id))
            store_summary(row, moved, replace(day, skipped=skipped))
            row.edit_count += 1
            return plan_read(row, new_visits)

    async def publish(self, principal: Principal, plan_id: int) -> PlanRead:
        """Make a done plan the day's plan: planned orders get their technician, times and arrival window
        (dispatched when the day has come, scheduled before) and the customer is told; unplaced orders are
        unscheduled with the reason; the day's earlier published plan is superseded. Started orders are left
        as they are. Raises ``InvalidTransition`` unless the plan is done."""
        require_role(principal, *DISPATCHERS)
        now = self.context.clock.now()
        async with transaction(self.context.sessions) as session:
            row = await load_plan(session, plan_id)
            if row.status != PlanStatus.DONE:
                raise InvalidTransition(
                    f"plan {plan_id} is {row.status}; only a done plan is published", field="status"
                )
            assert row.day_start is not None
            visits = await plan_visits(session, plan_id)
            names = {t.id: t.name for t in await session.scalars(select(TechnicianRow))}
            ids = {v.work_order_id for v in visits} | {int(u["work_order_id"]) for u in row.unscheduled}
            orders = {
                o.id: o for o in await session.scalars(select(WorkOrderRow).where(WorkOrderRow.id.in_(ids)))
            }
            target = WorkOrderStatus.DISPATCHED if row.day <= now.date() else WorkOrderStatus.SCHEDULED
            events = []
            for visit in visits:
                order = orders.get(visit.work_order_id)
                if order is None or WorkOrderStatus(order.status) not in PLANNABLE:
                    continue
                old = f"{order.status}, {names.get(order.technician_id or 0, 'nobody')}, {order.window_start_at}"
                _place(order, row, visit, target, now)
                assert order.window_start_at is not None
                assert order.window_end_at is not None
                new = (
                    f"{target}, {names.get(visit.technician_id, visit.technician_id)}, arrival "
                    f"{order.window_start_at:%Y-%m-%d %H:%M}–{order.window_end_at:%H:%M} UTC"
                )
                events.append(
                    record_event(
                        session, now, principal, order, "plan", old, new, f"plan {row.day} v{row.version}"
                    )
                )
            for entry in row.unscheduled:
                order = orders.get(int(entry["work_order_id"]))
                if order is None or WorkOrderStatus(order.status) not in PLANNABLE:
                    continue
                reason = f"{entry['reason']}: {entry['detail']}"[:500]
                old_status = order.status
                _unplace(order, reason, now)
                events.append(
                    record_event(session, now, principal, order, "plan", old_status, "unscheduled", reason)
                )
            for other in await session.scalars(
                select(PlanRow).where(PlanRow.day == row.day, PlanRow.status == PlanStatus.PUBLISHED)
            ):
                other.status = PlanStatus.SUPERSEDED
            row.status = PlanStatus.PUBLISHED
            row.published_at = now
            await queue_mirrors(session, now, events)
            add_outbox_job(session, now, NOTIFY_JOB, plan_id)
            result = plan_read(row, visits)
        await self.context.after_commit()
        return result


def _place(
    order: WorkOrderRow, plan: PlanRow, visit: PlanVisitRow, target: WorkOrderStatus, now: datetime
) -> None:
    """Put ``order`` on the planned visit (the customer is told by the notice job unless the window is the
    one they were told already)."""
    assert plan.day_start is not None
    start = plan.day_start + timedelta(seconds=visit.start_seconds)
    window = appointment_window(start)
    order.status = target
    order.technician_id = visit.technician_id
    order.planned_day = plan.day
    order.planned_start_at = start
    order.planned_end_at = plan.day_start + timedelta(seconds=visit.end_seconds)
    order.plan_id = plan.id
    order.unscheduled_reason = None
    order.updated_at = now
    if (order.window_start_at, order.window_end_at) != window:
        order.notified_plan_id = None
    order.window_start_at, order.window_end_at = window


def _unplace(order: WorkOrderRow, reason: str, now: datetime) -> None:
    order.status = WorkOrderStatus.UNSCHEDULED
    order.technician_id = order.planned_day = order.plan_id = None
    order.planned_start_at = order.planned_end_at = order.window_start_at = order.window_end_at = None
    order.unscheduled_reason = reason
    order.updated_at = now


def _apply_move(day: DayProblem, plan: Plan, data: MoveRequest) -> tuple[Plan, ProblemIndex]:
    ix = index_problem(day.problem)
    order_id = str(data.work_order_id)
    if order_id not in ix.orders:
        raise InvalidInput(
            f"work_order_id: WO-{order_id} cannot be planned on this day ({_skip_reason(day, order_id)})",
            field="work_order_id",
        )
    routes = {r.technician_id: r for r in plan.routes}
    unscheduled = [
        u for u in plan.unscheduled if u.work_order_id != order_id and u.work_order_id in ix.orders
    ]
    changed: set[str] = set()
    sequences: dict[str, list[str]] = {}
    for tech_id, route in routes.items():
        ids = [v.work_order_id for v in route.visits]
        if order_id in ids:
            ids.remove(order_id)
            changed.add(tech_id)
        sequences[tech_id] = ids
    if data.technician_id is None:
        unscheduled.append(
            Unscheduled(order_id, UnscheduledReason.NO_ROOM_IN_PLAN, "taken out of the plan by hand")
        )
    else:
        tech_id = str(data.technician_id)
        if tech_id not in ix.technicians:
            raise InvalidInput(
                f"technician_id: technician {tech_id} does not work on {day.problem.day_start:%Y-%m-%d}",
                field="technician_id",
            )
        seq = sequences.setdefault(tech_id, [])
        seq.insert(min(data.position, len(seq)), order_id)
        changed.add(tech_id)
    new_routes = []
    for tech_id, seq in sequences.items():
        if tech_id not in changed:
            new_routes.append(routes[tech_id])
            continue
        if tech_id not in ix.technicians:
            continue
        new_routes.append(_timed(ix, tech_id, [ix.orders[i] for i in seq]))
    return Plan(
        routes=tuple(r for r in new_routes if r.visits), unscheduled=tuple(unscheduled), solver="manual"
    ), ix


def _timed(ix: ProblemIndex, tech_id: str, orders: list[WorkOrder]) -> Route:
    """The route timed exactly, or (when it cannot be) timed naively so the validator names what breaks."""
    tech = ix.technicians[tech_id]
    timed = time_route(ix, tech, orders)
    if isinstance(timed, Route):
        return timed
    t, here, visits = tech.ready_seconds, ix.loc(tech.origin), []
    for order in orders:
        there = ix.loc(order.location)
        arrival = t + ix.durations[here][there]
        start = max([arrival, *[w.start_seconds for w in order.windows if w.end_seconds >= arrival][:1]])
        visits.append(Visit(order.id, arrival, start, start + order.duration_seconds))
        t, here = start + order.duration_seconds, there
    back = t + ix.durations[here][ix.loc(tech.home)]
    return Route(tech_id, tuple(visits), tech.ready_seconds, back)


def _skip_reason(day: DayProblem, order_id: str) -> str:
    return next((u.detail for u in day.skipped if u.work_order_id == order_id), "it is not open for planning")


def _visit_rows(plan_id: int, plan: Plan) -> list[PlanVisitRow]:
    return [
        PlanVisitRow(
            plan_id=plan_id,
            technician_id=int(route.technician_id),
            work_order_id=int(v.work_order_id),
            position=position,
            arrival_seconds=v.arrival_seconds,
            start_seconds=v.start_seconds,
            end_seconds=v.end_seconds,
            lateness_seconds=v.lateness_seconds,
        )
        for route in plan.routes
        for position, v in enumerate(route.visits)
    ]
