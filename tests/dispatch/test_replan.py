from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import pytest

from dispatch.planner import VisitStatus, plan_day, replan
from dispatch.planning import LunchBreak, PlanningProblem, Technician, TimeWindow, WorkOrder
from dispatch.travel import GeoPoint, HaversineTravel
from dispatch.validator import validate_plan

MakeProblem = Callable[[Sequence[Technician], Sequence[WorkOrder]], PlanningProblem]
HOUR = 3600
MIN = 60
LUNCH = LunchBreak(TimeWindow(12 * HOUR, 14 * HOUR), 30 * MIN)


def test_started_and_pinned_work_stays_where_it_is_on_replan(make_problem: MakeProblem) -> None:
    techs = [
        Technician(f"t{i}", f"p{i * 20}", TimeWindow(8 * HOUR, 17 * HOUR), lunch=LUNCH) for i in range(3)
    ]
    orders = [WorkOrder(f"w{j}", f"p{j * 7 % 60}", 45 * MIN) for j in range(12)]
    orders.append(WorkOrder("pinned", "p30", 30 * MIN, pinned_technician_id="t0"))
    problem = make_problem(techs, orders)
    plan = plan_day(problem, time_limit_s=1, seed=2)
    assert validate_plan(problem, plan) == []
    statuses: dict[str, VisitStatus] = {}
    kept = {}
    for route in plan.routes:
        if len(route.visits) >= 2:
            statuses[route.visits[0].work_order_id] = VisitStatus.COMPLETED
            statuses[route.visits[1].work_order_id] = VisitStatus.ON_SITE
            kept[route.technician_id] = route.visits[:2]
    now = max(v[1].start_seconds for v in kept.values())
    emergency = WorkOrder("burst-pipe", "p25", 60 * MIN, priority=1)
    again = replan(problem, plan, now, statuses, emergency=[emergency], time_limit_s=1, seed=2)
    for tech_id, visits in kept.items():
        route = again.route_of(tech_id)
        assert route is not None
        assert route.visits[:2] == visits
    pinned = again.visit_of("pinned")
    assert pinned is not None
    assert pinned[0] == "t0"
    inserted = again.visit_of("burst-pipe")
    assert inserted is not None
    assert inserted[1].start_seconds >= now
    full = PlanningProblem(
        problem.day_start, problem.technicians, (*problem.work_orders, emergency), problem.travel
    )
    assert validate_plan(full, again) == []


def _city(technicians: int, orders: int, seed: int) -> PlanningProblem:
    rng = random.Random(seed)

    def point() -> GeoPoint:
        return GeoPoint(48.137 + rng.uniform(-0.13, 0.13), 11.575 + rng.uniform(-0.2, 0.2))

    skills = ["s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8"]
    techs = tuple(
        Technician(
            f"t{i}",
            point(),
            TimeWindow(8 * HOUR, 17 * HOUR),
            skills=dict.fromkeys(rng.sample(skills, rng.randint(1, 4)), 2),
            lunch=LUNCH,
        )
        for i in range(technicians)
    )
    work = tuple(
        WorkOrder(
            f"w{j}",
            point(),
            rng.choice((30, 45, 60)) * MIN,
            windows=(rng.choice((TimeWindow(8 * HOUR, 12 * HOUR), TimeWindow(12 * HOUR, 16 * HOUR))),),
            required_skills={rng.choice(skills): 1},
            priority=rng.randint(1, 4),
            deadline_seconds=rng.choice((None, 13 * HOUR, 17 * HOUR)),
        )
        for j in range(orders)
    )
    return PlanningProblem(datetime(2025, 3, 3, tzinfo=UTC), techs, work, HaversineTravel())


@pytest.mark.slow
def test_replanning_fifty_technicians_finishes_within_ten_seconds() -> None:
    problem = _city(50, 400, seed=5)
    plan = plan_day(problem, time_limit_s=2, seed=0)
    statuses = {r.visits[0].work_order_id: VisitStatus.EN_ROUTE for r in plan.routes if r.visits}
    started = time.perf_counter()
    again = replan(problem, plan, 10 * HOUR, statuses, time_limit_s=4, seed=0)
    elapsed = time.perf_counter() - started
    assert elapsed < 10
    assert validate_plan(problem, again) == []
    for route in plan.routes:
        if route.visits:
            moved = again.route_of(route.technician_id)
            assert moved is not None
            assert moved.visits[0] == route.visits[0]
