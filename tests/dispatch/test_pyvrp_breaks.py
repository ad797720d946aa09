"""The lunch-break model inside PyVRP: one dummy break client per technician, on that technician's route."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from dispatch.planner import plan_day, precheck
from dispatch.planning import LunchBreak, PlanningProblem, Technician, TimeWindow, WorkOrder
from dispatch.pyvrp_adapter import _build, _search
from dispatch.timing import index_problem
from dispatch.validator import validate_plan

MakeProblem = Callable[[Sequence[Technician], Sequence[WorkOrder]], PlanningProblem]
HOUR = 3600
MIN = 60


def _world(make_problem: MakeProblem) -> PlanningProblem:
    early = LunchBreak(TimeWindow(11 * HOUR, 12 * HOUR), 30 * MIN)
    late = LunchBreak(TimeWindow(13 * HOUR, 14 * HOUR), 45 * MIN)
    techs = [
        Technician(f"t{i}", f"p{i * 10}", TimeWindow(8 * HOUR, 17 * HOUR), lunch=early if i % 2 else late)
        for i in range(4)
    ]
    orders = [WorkOrder(f"w{j}", f"p{(j * 13) % 50}", 50 * MIN) for j in range(24)]
    return make_problem(techs, orders)


def test_each_route_in_pyvrp_carries_exactly_one_break_of_its_technicians_class(
    make_problem: MakeProblem,
) -> None:
    problem = _world(make_problem)
    ix = index_problem(problem)
    orders, _ = precheck(ix)
    built = _build(ix, orders, list(problem.technicians))
    result = _search(built, 1.0, 0, None)
    assert result.best.is_feasible()
    breaks = {client: tech_id for tech_id, client in built.break_client.items()}
    lunch_of = {t.id: t.lunch for t in problem.technicians}
    for route in result.best.routes():
        taken = [a.idx for a in route.schedule() if a.is_client() and a.idx in breaks]
        assert len(taken) == 1
        owner = built.type_techs[route.vehicle_type()]
        assert all(lunch_of[t] == lunch_of[breaks[taken[0]]] for t in owner)


def test_solver_plan_with_lunch_breaks_is_valid_and_every_working_technician_breaks(
    make_problem: MakeProblem,
) -> None:
    problem = _world(make_problem)
    plan = plan_day(problem, time_limit_s=1, seed=3)
    assert validate_plan(problem, plan) == []
    for route in plan.routes:
        assert route.lunch is not None
        tech = next(t for t in problem.technicians if t.id == route.technician_id)
        assert tech.lunch is not None
        assert tech.lunch.window.contains(route.lunch.start_seconds)
