from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from dispatch.planner import plan_day
from dispatch.planning import (
    LunchBreak,
    Plan,
    PlanningProblem,
    Technician,
    TimeWindow,
    UnscheduledReason,
    WorkOrder,
)
from dispatch.validator import validate_plan

MakeProblem = Callable[[Sequence[Technician], Sequence[WorkOrder]], PlanningProblem]
HOUR = 3600
MIN = 60
DAY = TimeWindow(8 * HOUR, 17 * HOUR)


def tech(tid: str, home: str = "p0", **kwargs: object) -> Technician:
    return Technician(id=tid, home=home, shift=kwargs.pop("shift", DAY), **kwargs)  # type: ignore[arg-type]


def order(oid: str, where: str, minutes: int = 30, **kwargs: object) -> WorkOrder:
    return WorkOrder(id=oid, location=where, duration_seconds=minutes * MIN, **kwargs)  # type: ignore[arg-type]


def sequence(plan: Plan, technician_id: str) -> list[str]:
    route = plan.route_of(technician_id)
    return [] if route is None else [v.work_order_id for v in route.visits]


@pytest.mark.parametrize("time_limit", [0, 1])
def test_a_job_only_one_technician_can_do_goes_to_that_technician(
    make_problem: MakeProblem, time_limit: float
) -> None:
    problem = make_problem(
        [
            tech("near-but-unskilled", home="p30", skills={"hvac": 1, "electrical": 3}),
            tech("far-and-skilled", home="p0", skills={"hvac": 2}),
        ],
        [order("fix-chiller", "p30", required_skills={"hvac": 2})],
    )
    plan = plan_day(problem, time_limit_s=time_limit, seed=1)
    assert sequence(plan, "far-and-skilled") == ["fix-chiller"]
    assert validate_plan(problem, plan) == []


@pytest.mark.parametrize("time_limit", [0, 1])
def test_windows_force_the_farther_job_first(make_problem: MakeProblem, time_limit: float) -> None:
    problem = make_problem(
        [tech("t1")],
        [
            order("near-later", "p10", windows=(TimeWindow(9 * HOUR + 30 * MIN, 10 * HOUR),)),
            order("far-early", "p20", windows=(TimeWindow(8 * HOUR + 20 * MIN, 8 * HOUR + 40 * MIN),)),
        ],
    )
    plan = plan_day(problem, time_limit_s=time_limit, seed=1)
    assert sequence(plan, "t1") == ["far-early", "near-later"]
    route = plan.route_of("t1")
    assert route is not None
    # 20 min to p20, start at 8:20, 30 min on site, 10 min to p10, wait for 9:30.
    assert [(v.arrival_seconds, v.start_seconds) for v in route.visits] == [
        (8 * HOUR + 20 * MIN, 8 * HOUR + 20 * MIN),
        (9 * HOUR, 9 * HOUR + 30 * MIN),
    ]
    assert route.travel_seconds == 40 * MIN
    assert route.travel_meters == 40_000
    assert validate_plan(problem, plan) == []


@pytest.mark.parametrize("time_limit", [0, 1])
def test_lunch_break_is_respected_no_work_overlaps_it(make_problem: MakeProblem, time_limit: float) -> None:
    lunch = LunchBreak(TimeWindow(12 * HOUR, 13 * HOUR), 30 * MIN)
    problem = make_problem(
        [tech("t1", lunch=lunch)],
        [order(f"job{i}", f"p{i}", minutes=100) for i in range(1, 6)],
    )
    plan = plan_day(problem, time_limit_s=time_limit, seed=1)
    route = plan.route_of("t1")
    assert route is not None
    assert route.lunch is not None
    assert route.lunch.start_seconds >= 12 * HOUR
    assert route.lunch.end_seconds <= 13 * HOUR
    assert route.lunch.end_seconds - route.lunch.start_seconds == 30 * MIN
    for visit in route.visits:
        assert (
            visit.end_seconds <= route.lunch.start_seconds or visit.start_seconds >= route.lunch.end_seconds
        )
    # 9 hours minus a 30-minute break and a little driving leave room for four 100-minute jobs.
    assert plan.served == 4
    assert validate_plan(problem, plan) == []


def test_impossible_jobs_are_reported_with_their_reason(make_problem: MakeProblem) -> None:
    problem = make_problem(
        [tech("t1", skills={"plumbing": 1}, capacity=5), tech("t2", skills={"plumbing": 2}, capacity=5)],
        [
            order("unknown-skill", "p5", required_skills={"elevator": 1}),
            order("skill-level-too-high", "p5", required_skills={"plumbing": 3}),
            order("evening-only", "p5", windows=(TimeWindow(20 * HOUR, 21 * HOUR),)),
            order("ten-hours", "p5", minutes=600),
            order("too-heavy", "p5", demand=9),
            order("pinned-to-nobody", "p5", pinned_technician_id="t9"),
            order("fine", "p5", required_skills={"plumbing": 2}),
        ],
    )
    plan = plan_day(problem, time_limit_s=1, seed=1)
    reasons = {u.work_order_id: u.reason for u in plan.unscheduled}
    assert reasons == {
        "unknown-skill": UnscheduledReason.NO_SKILLED_TECHNICIAN,
        "skill-level-too-high": UnscheduledReason.NO_SKILLED_TECHNICIAN,
        "evening-only": UnscheduledReason.NO_WINDOW_FITS,
        "ten-hours": UnscheduledReason.DURATION_EXCEEDS_SHIFT,
        "too-heavy": UnscheduledReason.CAPACITY,
        "pinned-to-nobody": UnscheduledReason.PINNED_TECHNICIAN_UNAVAILABLE,
    }
    assert sequence(plan, "t2") == ["fine"]
    assert validate_plan(problem, plan) == []


def test_more_work_than_time_drops_low_priority_work_first(make_problem: MakeProblem) -> None:
    orders = [order(f"low{i}", f"p{i}", minutes=120, priority=4) for i in range(1, 4)]
    orders += [order(f"urgent{i}", f"p{i + 10}", minutes=120, priority=1) for i in range(1, 4)]
    problem = make_problem([tech("t1")], orders)
    plan = plan_day(problem, time_limit_s=1, seed=1)
    served = set(sequence(plan, "t1"))
    assert {"urgent1", "urgent2", "urgent3"} <= served
    assert all(u.reason is UnscheduledReason.NO_ROOM_IN_PLAN for u in plan.unscheduled)
    assert validate_plan(problem, plan) == []


def test_a_missed_deadline_is_reported_as_lateness_not_dropped(make_problem: MakeProblem) -> None:
    problem = make_problem(
        [tech("t1")], [order("sla", "p60", minutes=60, deadline_seconds=8 * HOUR + 90 * MIN, priority=1)]
    )
    plan = plan_day(problem, time_limit_s=1, seed=1)
    found = plan.visit_of("sla")
    assert found is not None
    assert found[1].lateness_seconds == 30 * MIN  # 60 min drive + 60 min work ends at 10:00
    assert plan.lateness_seconds == 30 * MIN


def test_multiple_windows_use_the_one_that_fits(make_problem: MakeProblem) -> None:
    windows = (TimeWindow(6 * HOUR, 7 * HOUR), TimeWindow(14 * HOUR, 15 * HOUR))
    problem = make_problem([tech("t1")], [order("two-slots", "p10", windows=windows)])
    plan = plan_day(problem, time_limit_s=1, seed=1)
    found = plan.visit_of("two-slots")
    assert found is not None
    assert found[1].start_seconds == 14 * HOUR


def test_pinned_technician_and_start_are_honoured(make_problem: MakeProblem) -> None:
    problem = make_problem(
        [tech("t1", home="p10"), tech("t2", home="p50")],
        [order("pinned", "p10", pinned_technician_id="t2", pinned_start_seconds=11 * HOUR)],
    )
    plan = plan_day(problem, time_limit_s=1, seed=1)
    found = plan.visit_of("pinned")
    assert found is not None
    assert found[0] == "t2"
    assert found[1].start_seconds == 11 * HOUR


def test_capacity_splits_work_between_technicians(make_problem: MakeProblem) -> None:
    problem = make_problem(
        [tech("t1", capacity=10), tech("t2", capacity=10)],
        [order(f"box{i}", f"p{i}", demand=6) for i in range(1, 4)],
    )
    plan = plan_day(problem, time_limit_s=1, seed=1)
    assert plan.served == 2  # two of three fit: 6 + 6 > 10
    assert all(len(r.visits) <= 1 for r in plan.routes)
    assert [u.reason for u in plan.unscheduled] == [UnscheduledReason.NO_ROOM_IN_PLAN]
