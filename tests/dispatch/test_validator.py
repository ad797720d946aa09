from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import pytest

from dispatch.planner import plan_day
from dispatch.planning import (
    BreakSlot,
    LunchBreak,
    Plan,
    PlanningProblem,
    Technician,
    TimeWindow,
    Unscheduled,
    UnscheduledReason,
    Visit,
    WorkOrder,
)
from dispatch.validator import ViolationCode, validate_plan

MakeProblem = Callable[[Sequence[Technician], Sequence[WorkOrder]], PlanningProblem]
HOUR = 3600
MIN = 60


@pytest.fixture
def world(make_problem: MakeProblem) -> tuple[PlanningProblem, Plan]:
    lunch = LunchBreak(TimeWindow(12 * HOUR, 13 * HOUR), 30 * MIN)
    problem = make_problem(
        [
            Technician(
                "t1", "p0", TimeWindow(8 * HOUR, 17 * HOUR), skills={"hvac": 1}, lunch=lunch, capacity=3
            ),
            Technician("t2", "p0", TimeWindow(8 * HOUR, 17 * HOUR), skills={"locks": 1}),
        ],
        [
            WorkOrder(
                "a", "p10", 60 * MIN, windows=(TimeWindow(8 * HOUR, 11 * HOUR),), required_skills={"hvac": 1}
            ),
            WorkOrder("b", "p20", 60 * MIN, demand=2),
        ],
    )
    return problem, plan_day(problem, time_limit_s=0)


def codes(problem: PlanningProblem, plan: Plan) -> set[ViolationCode]:
    return {v.code for v in validate_plan(problem, plan)}


def test_a_planned_day_is_valid(world: tuple[PlanningProblem, Plan]) -> None:
    problem, plan = world
    assert plan.served == 2
    assert validate_plan(problem, plan) == []


def test_moving_work_onto_the_lunch_break_is_caught(world: tuple[PlanningProblem, Plan]) -> None:
    problem, plan = world
    route = plan.route_of("t1")
    assert route is not None
    moved = replace(
        route, lunch=BreakSlot(route.visits[0].start_seconds, route.visits[0].start_seconds + 30 * MIN)
    )
    assert ViolationCode.BREAK in codes(problem, replace(plan, routes=(moved,)))
    assert ViolationCode.BREAK in codes(problem, replace(plan, routes=(replace(route, lunch=None),)))


def test_giving_work_to_an_unskilled_technician_is_caught(world: tuple[PlanningProblem, Plan]) -> None:
    problem, plan = world
    route = plan.route_of("t1")
    assert route is not None
    visit = route.visits[[v.work_order_id for v in route.visits].index("a")]
    only_a = replace(route, technician_id="t2", lunch=None, visits=(visit,))
    others = tuple(r for r in plan.routes if r.technician_id not in {"t1", "t2"})
    found = codes(
        problem,
        replace(
            plan, routes=(only_a, *others), unscheduled=(Unscheduled("b", UnscheduledReason.NO_ROOM_IN_PLAN),)
        ),
    )
    assert ViolationCode.SKILL in found


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda v: replace(v, start_seconds=12 * HOUR, end_seconds=13 * HOUR), ViolationCode.WINDOW),
        (
            lambda v: replace(v, arrival_seconds=8 * HOUR, start_seconds=8 * HOUR, end_seconds=9 * HOUR),
            ViolationCode.TRAVEL,
        ),
        (lambda v: replace(v, end_seconds=v.end_seconds - 1), ViolationCode.DURATION),
    ],
)
def test_hand_edited_times_that_cannot_happen_are_caught(
    world: tuple[PlanningProblem, Plan], change: Callable[[Visit], Visit], code: ViolationCode
) -> None:
    problem, plan = world
    routes = tuple(
        replace(r, visits=tuple(change(v) if v.work_order_id == "a" else v for v in r.visits))
        for r in plan.routes
    )
    assert code in codes(problem, replace(plan, routes=routes))


def test_a_lost_or_doubled_work_order_is_caught(world: tuple[PlanningProblem, Plan]) -> None:
    problem, plan = world
    assert ViolationCode.MISSING in codes(problem, replace(plan, routes=()))
    doubled = replace(plan, unscheduled=(Unscheduled("a", UnscheduledReason.NO_ROOM_IN_PLAN),))
    assert ViolationCode.DUPLICATE in codes(problem, doubled)
