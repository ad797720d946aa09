"""Day plans: queue a planning run, run it (the job), read the result. Review edits and publishing live in
``dispatch.plan_edits``.

A plan row reports its progress (queued → running → done | failed, with counts) and keeps its result as
``dispatch_plan_visit`` rows plus per-route facts; plans of a day are numbered (``version``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import httpx
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dispatch.models import PlanRow, PlanVisitRow, TechnicianRow, WorkOrderRow
from dispatch.osrm import OsrmTravel
from dispatch.planner import VisitStatus, plan_day, replan
from dispatch.planning import Plan
from dispatch.problem import DayProblem, build_problem, plan_from_rows, routes_json
from dispatch.rules import PLANNABLE, STARTED, WorkOrderStatus
from dispatch.schemas import PlanCreate, PlanRead, ReplanCreate
from dispatch.service import DISPATCHERS
from dispatch.travel import HaversineTravel, TravelProvider
from dispatch.views import plan_read
from helpdesk.core.context import AppContext
from helpdesk.core.db import transaction
from helpdesk.core.errors import InvalidInput, InvalidTransition, NotFound
from helpdesk.core.outbox import add_outbox_job
from helpdesk.core.principal import Principal, require_role

log = logging.getLogger(__name__)

PLAN_JOB = "plan_day_job"
REPLAN_JOB = "replan_job"


class PlanStatus:
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"


@contextlib.contextmanager
def travel_provider(context: AppContext) -> Iterator[TravelProvider]:
    """OSRM when ``HELPDESK_OSRM_URL`` is set (its HTTP client closed afterwards), else great-circle distance
    with a road factor."""
    url = context.settings.osrm_url
    if not url:
        yield HaversineTravel()
        return
    with httpx.Client(base_url=url, timeout=30) as client:
        yield OsrmTravel(client)


async def load_plan(session: AsyncSession, plan_id: int) -> PlanRow:
    row = await session.get(PlanRow, plan_id)
    if row is None:
        raise NotFound(f"plan {plan_id} not found")
    return row


async def plan_visits(session: AsyncSession, plan_id: int) -> list[PlanVisitRow]:
    return list(
        await session.scalars(
            select(PlanVisitRow).where(PlanVisitRow.plan_id == plan_id).order_by(PlanVisitRow.position)
        )
    )


async def active_technicians(session: AsyncSession) -> list[TechnicianRow]:
    return list(await session.scalars(select(TechnicianRow).where(TechnicianRow.is_active.is_(True))))


class PlanService:
    def __init__(self, context: AppContext) -> None:
        self.context = context

    async def create_plan(self, principal: Principal, data: PlanCreate) -> PlanRead:
        """Queue a planning run for ``data.day``; the ``plan_day_job`` fills the plan in."""
        require_role(principal, *DISPATCHERS)
        return await self._queue(principal, data.day, "plan", data.time_limit_seconds, PLAN_JOB)

    async def create_replan(self, principal: Principal, plan_id: int, data: ReplanCreate) -> PlanRead:
        """Queue a re-plan of a published plan's day from now: started orders (en route, on site, completed)
        keep their technician and times; ``emergency_work_order_ids`` are inserted. Raises
        ``InvalidTransition`` unless the plan is the published one, ``InvalidInput`` for an emergency order
        that cannot be planned."""
        require_role(principal, *DISPATCHERS)
        async with self.context.sessions() as session:
            base = await load_plan(session, plan_id)
            if base.status != PlanStatus.PUBLISHED:
                raise InvalidTransition(
                    f"plan {plan_id} is {base.status}; re-plan the published plan", field="status"
                )
            for i, order_id in enumerate(data.emergency_work_order_ids):
                order = await session.get(WorkOrderRow, order_id)
                if order is None or WorkOrderStatus(order.status) not in PLANNABLE:
                    raise InvalidInput(
                        f"emergency_work_order_ids[{i}]: work order {order_id} is not open for planning",
                        field=f"emergency_work_order_ids[{i}]",
                    )
        return await self._queue(
            principal,
            base.day,
            "replan",
            data.time_limit_seconds,
            REPLAN_JOB,
            base=base,
            emergency=list(data.emergency_work_order_ids),
        )

    async def _queue(
        self,
        principal: Principal,
        day: date,
        kind: str,
        time_limit: float,
        job: str,
        *,
        base: PlanRow | None = None,
        emergency: list[int] | None = None,
    ) -> PlanRead:
        now = self.context.clock.now()
        async with transaction(self.context.sessions) as session:
            version = (await session.scalar(select(func.max(PlanRow.version)).where(PlanRow.day == day))) or 0
            row = PlanRow(
                day=day,
                version=version + 1,
                kind=kind,
                status=PlanStatus.QUEUED,
                base_plan_id=base.id if base else None,
                emergency_ids=emergency or [],
                replan_at=now if base else None,
                time_limit_seconds=time_limit,
                day_start=base.day_start if base else None,
                routes={},
                unscheduled=[],
                created_by=principal.label[:200],
                created_at=now,
            )
            session.add(row)
            await session.flush()
            add_outbox_job(session, now, job, row.id)
        await self.context.after_commit()
        return plan_read(row, [])

    async def get_plan(self, principal: Principal, plan_id: int) -> PlanRead:
        require_role(principal, *DISPATCHERS)
        async with self.context.sessions() as session:
            row = await load_plan(session, plan_id)
            return plan_read(row, await plan_visits(session, plan_id))

    async def list_plans(self, principal: Principal, day: date | None = None) -> list[PlanRead]:
        require_role(principal, *DISPATCHERS)
        query = select(PlanRow).order_by(PlanRow.day.desc(), PlanRow.version.desc()).limit(50)
        if day is not None:
            query = query.where(PlanRow.day == day)
        async with self.context.sessions() as session:
            return [plan_read(r, []) for r in await session.scalars(query)]

    async def run_plan(self, plan_id: int) -> bool:
        """Plan a queued plan once (a second delivery finds it running or done and does nothing); any error
        marks it failed with the reason. Returns whether this call ran it."""
        now = self.context.clock.now()
        async with transaction(self.context.sessions) as session:
            claimed = await session.execute(
                update(PlanRow)
                .where(PlanRow.id == plan_id, PlanRow.status == PlanStatus.QUEUED)
                .values(status=PlanStatus.RUNNING, started_at=now)
            )
        if getattr(claimed, "rowcount", 0) != 1:
            return False
        try:
            await self._compute(plan_id)
        except Exception as exc:
            log.exception("plan %s failed", plan_id)
            async with transaction(self.context.sessions) as session:
                row = await load_plan(session, plan_id)
                row.status = PlanStatus.FAILED
                row.error = getattr(exc, "detail", None) or f"{type(exc).__name__}: {exc}"
                row.finished_at = self.context.clock.now()
        return True

    async def _compute(self, plan_id: int) -> None:
        async with self.context.sessions() as session:
            row = await load_plan(session, plan_id)
            techs = await active_technicians(session)
            if row.kind == "replan":
                assert row.base_plan_id is not None
                base = await load_plan(session, row.base_plan_id)
                base_visits = await plan_visits(session, base.id)
                ids = {v.work_order_id for v in base_visits} | {
                    int(u["work_order_id"]) for u in base.unscheduled
                }
                orders = await _orders(session, ids | set(row.emergency_ids))
            else:
                orders = await _plannable_orders(session, row.day)
        with travel_provider(self.context) as travel:
            if row.kind == "replan":
                result, day = await asyncio.to_thread(_replan, row, base, base_visits, techs, orders, travel)
            else:
                day = build_problem(row.day, techs, orders, travel)
                result = await asyncio.to_thread(plan_day, day.problem, row.time_limit_seconds)
        await self._store(plan_id, day, result, len(orders))

    async def _store(self, plan_id: int, day: DayProblem, plan: Plan, order_count: int) -> None:
        async with transaction(self.context.sessions) as session:
            row = await load_plan(session, plan_id)
            await session.execute(delete(PlanVisitRow).where(PlanVisitRow.plan_id == plan_id))
            for route in plan.routes:
                for position, visit in enumerate(route.visits):
                    session.add(
                        PlanVisitRow(
                            plan_id=plan_id,
                            technician_id=int(route.technician_id),
                            work_order_id=int(visit.work_order_id),
                            position=position,
                            arrival_seconds=visit.arrival_seconds,
                            start_seconds=visit.start_seconds,
                            end_seconds=visit.end_seconds,
                            lateness_seconds=visit.lateness_seconds,
                        )
                    )
            store_summary(row, plan, day)
            row.order_count = order_count
            row.status = PlanStatus.DONE
            row.finished_at = self.context.clock.now()


def store_summary(row: PlanRow, plan: Plan, day: DayProblem) -> None:
    """Counts, routes and the unscheduled list of ``plan`` onto its row."""
    unscheduled = [*day.skipped, *plan.unscheduled]
    row.day_start = day.problem.day_start
    row.technician_count = len(day.problem.technicians)
    row.served_count = plan.served
    row.unscheduled_count = len(unscheduled)
    row.travel_seconds = plan.travel_seconds
    row.lateness_seconds = plan.lateness_seconds
    row.overtime_seconds = plan.overtime_seconds
    row.solver = plan.solver or row.solver
    row.routes = routes_json(plan)
    row.unscheduled = [
        {"work_order_id": int(u.work_order_id), "reason": str(u.reason), "detail": u.detail}
        for u in unscheduled
    ]


def _replan(
    row: PlanRow,
    base: PlanRow,
    base_visits: list[PlanVisitRow],
    techs: list[TechnicianRow],
    orders: list[WorkOrderRow],
    travel: TravelProvider,
) -> tuple[Plan, DayProblem]:
    assert base.day_start is not None
    assert row.replan_at is not None
    emergency_ids = {str(i) for i in row.emergency_ids}
    day = build_problem(row.day, techs, orders, travel, day_start=base.day_start)
    known = {o.id for o in day.problem.work_orders}
    old = plan_from_rows(base.routes, [v for v in base_visits if str(v.work_order_id) in known], [])
    statuses = {str(o.id): VisitStatus(o.status) for o in orders if WorkOrderStatus(o.status) in STARTED}
    emergency = [o for o in day.problem.work_orders if o.id in emergency_ids]
    rest = replace(
        day.problem, work_orders=tuple(o for o in day.problem.work_orders if o.id not in emergency_ids)
    )
    now_seconds = int((row.replan_at - base.day_start).total_seconds())
    plan = replan(rest, old, now_seconds, statuses, emergency=emergency, time_limit_s=row.time_limit_seconds)
    return plan, day


async def _orders(session: AsyncSession, ids: set[int]) -> list[WorkOrderRow]:
    if not ids:
        return []
    rows = await session.scalars(
        select(WorkOrderRow).where(WorkOrderRow.id.in_(ids)).order_by(WorkOrderRow.id)
    )
    keep = PLANNABLE | STARTED
    return [r for r in rows if WorkOrderStatus(r.status) in keep]


async def _plannable_orders(session: AsyncSession, day: date) -> list[WorkOrderRow]:
    """Unscheduled orders, and scheduled or dispatched ones planned for ``day`` (planned again)."""
    query = (
        select(WorkOrderRow)
        .where(
            or_(
                WorkOrderRow.status == WorkOrderStatus.UNSCHEDULED,
                (WorkOrderRow.status.in_([WorkOrderStatus.SCHEDULED, WorkOrderStatus.DISPATCHED]))
                & (WorkOrderRow.planned_day == day),
            )
        )
        .order_by(WorkOrderRow.id)
    )
    return list(await session.scalars(query))
