"""A realistic field-service day planned by ``dispatch.planner``, next to the greedy baseline in the same run.

    nice .venv/bin/python benchmarks/dispatch_day.py [--time-limit 30] [--seed 0]

Generated with a fixed seed: 50 technicians holding 1-4 of 8 skills (levels 1-3), home bases and 500 work
orders spread over a ~30 km city, shifts with lunch breaks, one or two availability windows, priorities and
SLA deadlines. More work than fits in a day, so what gets dropped matters. The last line is one JSON object
with the same figures.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from datetime import UTC, datetime

from dispatch.planner import plan_day
from dispatch.planning import LunchBreak, Plan, PlanningProblem, Technician, TimeWindow, WorkOrder
from dispatch.travel import GeoPoint, HaversineTravel
from dispatch.validator import validate_plan

HOUR = 3600
SKILLS = ("electrical", "plumbing", "hvac", "network", "elevator", "fire_safety", "appliances", "locks")
CENTER = GeoPoint(48.137, 11.575)  # Munich; +-0.135 deg latitude and +-0.2 deg longitude is about 30 km


def _point(rng: random.Random) -> GeoPoint:
    return GeoPoint(CENTER.lat + rng.uniform(-0.135, 0.135), CENTER.lon + rng.uniform(-0.2, 0.2))


def generate(seed: int, technicians: int = 50, orders: int = 500) -> PlanningProblem:
    """The same day for the same seed."""
    rng = random.Random(seed)
    techs = []
    for i in range(technicians):
        start = rng.choice((7, 8, 8, 8, 9)) * HOUR
        techs.append(
            Technician(
                id=f"tech-{i:02d}",
                home=_point(rng),
                shift=TimeWindow(start, start + 9 * HOUR),
                skills={s: rng.randint(1, 3) for s in rng.sample(SKILLS, rng.randint(1, 4))},
                lunch=LunchBreak(TimeWindow(11 * HOUR + 1800, 14 * HOUR), rng.choice((1800, 2700))),
                max_work_seconds=9 * HOUR,
                max_overtime_seconds=HOUR,
            )
        )
    slots = [TimeWindow(h * HOUR, (h + 2) * HOUR) for h in range(8, 16, 2)]
    work = []
    for j in range(orders):
        kind = rng.random()
        if kind < 0.4:
            windows: tuple[TimeWindow, ...] = (TimeWindow(8 * HOUR, 16 * HOUR),)
        elif kind < 0.6:
            windows = (
                (TimeWindow(8 * HOUR, 12 * HOUR),)
                if rng.random() < 0.5
                else (TimeWindow(12 * HOUR, 16 * HOUR),)
            )
        elif kind < 0.85:
            windows = (rng.choice(slots),)
        else:
            windows = tuple(sorted(rng.sample(slots, 2), key=lambda w: w.start_seconds))
        duration = rng.choice((15, 30, 30, 45, 45, 60, 60, 90, 120)) * 60
        needs = {rng.choice(SKILLS): rng.choice((1, 1, 2))}
        if rng.random() < 0.15:
            needs[rng.choice(SKILLS)] = 1
        priority = rng.choices((1, 2, 3, 4), weights=(1, 3, 4, 2))[0]
        deadline = None
        if rng.random() < 0.4:
            deadline = rng.choice((11, 12, 14, 16, 18)) * HOUR
        work.append(
            WorkOrder(
                id=f"wo-{j:03d}",
                location=_point(rng),
                duration_seconds=duration,
                windows=windows,
                required_skills=needs,
                priority=priority,
                deadline_seconds=deadline,
            )
        )
    return PlanningProblem(
        day_start=datetime(2025, 3, 3, tzinfo=UTC),
        technicians=tuple(techs),
        work_orders=tuple(work),
        travel=HaversineTravel(),
    )


def figures(problem: PlanningProblem, plan: Plan, seconds: float) -> dict[str, object]:
    by_priority = dict.fromkeys((1, 2, 3, 4), 0)
    priority = {o.id: o.priority for o in problem.work_orders}
    for route in plan.routes:
        for visit in route.visits:
            by_priority[priority[visit.work_order_id]] += 1
    reasons: dict[str, int] = {}
    for u in plan.unscheduled:
        reasons[u.reason.value] = reasons.get(u.reason.value, 0) + 1
    return {
        "solver": plan.solver,
        "seconds": round(seconds, 2),
        "valid": not validate_plan(problem, plan),
        "served": plan.served,
        "served_by_priority": by_priority,
        "late_orders": sum(1 for r in plan.routes for v in r.visits if v.lateness_seconds > 0),
        "lateness_minutes": round(plan.lateness_seconds / 60),
        "travel_hours": round(plan.travel_seconds / 3600, 1),
        "travel_km": round(plan.travel_meters / 1000, 1),
        "overtime_minutes": round(plan.overtime_seconds / 60),
        "technicians_used": sum(1 for r in plan.routes if r.visits),
        "unscheduled": reasons,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    problem = generate(args.seed)
    started = time.perf_counter()
    greedy = plan_day(problem, time_limit_s=0)
    first_feasible = time.perf_counter() - started
    started = time.perf_counter()
    solved = plan_day(problem, time_limit_s=args.time_limit, seed=args.seed)
    solved_seconds = time.perf_counter() - started
    rows = {
        "greedy": figures(problem, greedy, first_feasible),
        "planner": figures(problem, solved, solved_seconds),
    }
    print(f"{len(problem.technicians)} technicians, {len(problem.work_orders)} work orders, seed {args.seed}")
    print(f"time to first feasible plan: {first_feasible:.2f} s (target < 5 s)")
    print(f"{'':24} {'greedy':>12} {'planner ' + str(args.time_limit) + 's':>14}")
    for key in (
        "solver",
        "valid",
        "served",
        "served_by_priority",
        "late_orders",
        "lateness_minutes",
        "travel_hours",
        "travel_km",
        "overtime_minutes",
        "technicians_used",
        "seconds",
    ):
        print(f"{key:24} {rows['greedy'][key]!s:>12} {rows['planner'][key]!s:>14}")
    print(f"unscheduled greedy {rows['greedy']['unscheduled']}, planner {rows['planner']['unscheduled']}")
    print(
        json.dumps(
            {
                "time_limit_s": args.time_limit,
                "seed": args.seed,
                "first_feasible_seconds": round(first_feasible, 3),
                **rows,
            }
        )
    )


if __name__ == "__main__":
    main()
