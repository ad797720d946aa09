from __future__ import annotations

from pathlib import Path

import pytest

from dispatch.planner import plan_day
from dispatch.planning import Plan
from dispatch.vrptw import Node, check_routes, read_instance, scaled_distance, to_problem
from helpdesk.core.errors import InvalidInput

C101 = Path("/work/shared/data/dispatch/solomon/C101.txt")
pytestmark = pytest.mark.skipif(not C101.exists(), reason="benchmark instances not available")


def routes_of(plan: Plan) -> list[list[int]]:
    return [[int(v.work_order_id) for v in r.visits] for r in plan.routes if r.visits]


def test_solomon_reader_reads_c101() -> None:
    instance = read_instance(C101)
    assert (instance.name, instance.vehicles, instance.capacity, len(instance.nodes)) == (
        "C101",
        25,
        200,
        101,
    )
    assert instance.nodes[0] == Node(0, 40, 50, 0, 0, 1236, 0)
    assert instance.nodes[1] == Node(1, 45, 68, 10, 912, 967, 90)


def test_distances_follow_each_convention_exactly() -> None:
    a, b = Node(0, 0, 0, 0, 0, 0, 0), Node(1, 1, 1, 0, 0, 0, 0)  # sqrt(2) = 1.41421...
    assert scaled_distance(a, b, "trunc1") == 14
    assert scaled_distance(a, b, "double") == 1415
    c = Node(2, 3, 4, 0, 0, 0, 0)
    assert scaled_distance(a, c, "double") == 5000


@pytest.mark.parametrize("time_limit", [0, 1])
def test_greedy_and_solver_plans_for_c101_pass_the_exact_check(time_limit: float) -> None:
    instance = read_instance(C101)
    plan = plan_day(to_problem(instance, "trunc1"), time_limit_s=time_limit, seed=0)
    assert plan.unscheduled == ()
    check = check_routes(instance, routes_of(plan), "trunc1")
    assert check.feasible, check.problems
    assert check.distance == pytest.approx(plan.travel_seconds / 10)
    assert check.distance >= 827.3  # the best known
    assert check_routes(instance, routes_of(plan), "double").feasible


def test_exact_check_catches_a_late_arrival_and_a_missing_customer() -> None:
    instance = read_instance(C101)
    plan = plan_day(to_problem(instance, "trunc1"), time_limit_s=0)
    routes = routes_of(plan)
    routes[0] = list(reversed(routes[0]))
    assert not check_routes(instance, routes, "trunc1").feasible
    assert not check_routes(instance, routes[1:], "trunc1").feasible


def test_reader_rejects_a_file_that_is_not_an_instance(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("hello\nworld\n")
    with pytest.raises(InvalidInput) as caught:
        read_instance(bad)
    assert caught.value.field == "path"
