"""Plan VRPTW benchmark instances through ``dispatch.planner`` and compare with the best-known solutions.

    nice .venv/bin/python benchmarks/dispatch_vrptw.py FILE... --time-limit 30 [--objective distance|vehicles]

``distance`` scores total distance under the trunc1 convention (floor(10 * euclid) / 10, vehicles free);
``vehicles`` ranks fewer vehicles first under full precision (``double``). Each solution is re-checked in
exact arithmetic before it is scored. The greedy baseline is measured in the same run. The last line is
one JSON object with the same figures.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import time
from pathlib import Path

from dispatch.planner import plan_day
from dispatch.planning import Plan
from dispatch.vrptw import Convention, VrptwInstance, check_routes, read_instance, to_problem

BEST_KNOWN = Path("/work/shared/data/dispatch/best_known.csv")
# Using a vehicle costs more than any route could save: fewer vehicles always wins.
VEHICLE_COST = 10**9


def best_known(objective: str) -> dict[str, tuple[int, float]]:
    """Instance name (upper case) -> (vehicles, distance) from the rows matching ``objective``'s convention."""
    rows: dict[str, tuple[int, float]] = {}
    with BEST_KNOWN.open() as fh:
        for row in csv.DictReader(fh):
            if (
                objective == "distance"
                and row["objective"] == "distance-only"
                and row["convention"].startswith("trunc1")
            ) or (
                objective == "vehicles"
                and row["objective"] == "vehicles-first"
                and row["convention"] == "double"
                and row["source_repo"] == "c4v4/LKH3"
            ):
                rows[row["instance"].upper()] = (int(row["vehicles"]), float(row["distance"]))
    return rows


def routes_of(plan: Plan) -> list[list[int]]:
    return [[int(v.work_order_id) for v in r.visits] for r in plan.routes if r.visits]


def run(
    path: Path, time_limit: float, objective: str, seed: int, known: dict[str, tuple[int, float]]
) -> dict[str, object]:
    instance: VrptwInstance = read_instance(path)
    convention: Convention = "trunc1" if objective == "distance" else "double"
    problem = to_problem(instance, convention, vehicle_cost=VEHICLE_COST if objective == "vehicles" else 0)
    started = time.perf_counter()
    greedy = plan_day(problem, time_limit_s=0)
    greedy_seconds = time.perf_counter() - started
    started = time.perf_counter()
    plan = plan_day(problem, time_limit_s=time_limit, seed=seed)
    seconds = time.perf_counter() - started
    check = check_routes(instance, routes_of(plan), convention)
    greedy_check = check_routes(instance, routes_of(greedy), convention)
    bk = known.get(instance.name.upper())
    gap = None if bk is None or not check.feasible else (check.distance - bk[1]) / bk[1] * 100
    greedy_gap = (
        None if bk is None or not greedy_check.feasible else (greedy_check.distance - bk[1]) / bk[1] * 100
    )
    return {
        "instance": instance.name.upper(),
        "feasible": check.feasible,
        "problems": list(check.problems[:3]),
        "vehicles": check.vehicles,
        "distance": round(check.distance, 2),
        "best_known_vehicles": bk[0] if bk else None,
        "best_known_distance": bk[1] if bk else None,
        "gap_percent": None if gap is None else round(gap, 3),
        "seconds": round(seconds, 1),
        "greedy_vehicles": greedy_check.vehicles,
        "greedy_distance": round(greedy_check.distance, 2),
        "greedy_gap_percent": None if greedy_gap is None else round(greedy_gap, 3),
        "greedy_seconds": round(greedy_seconds, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--time-limit", type=float, required=True, help="seconds per instance")
    parser.add_argument("--objective", choices=("distance", "vehicles"), default="distance")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    known = best_known(args.objective)
    convention = "trunc1" if args.objective == "distance" else "double"
    print(
        f"objective={args.objective} convention={convention} time limit {args.time_limit}s seed {args.seed}"
    )
    print(
        f"{'instance':10} {'ok':3} {'veh':>4} {'distance':>10} {'bk veh':>6} {'bk dist':>10} {'gap %':>7} "
        f"{'time s':>6} | {'greedy veh':>10} {'greedy gap %':>12}"
    )
    results = []
    for path in args.files:
        r = run(path, args.time_limit, args.objective, args.seed, known)
        results.append(r)
        print(
            f"{r['instance']!s:10} {'yes' if r['feasible'] else 'NO':3} {r['vehicles']!s:>4} {r['distance']!s:>10} "
            f"{r['best_known_vehicles']!s:>6} {r['best_known_distance']!s:>10} {r['gap_percent']!s:>7} "
            f"{r['seconds']!s:>6} | {r['greedy_vehicles']!s:>10} {r['greedy_gap_percent']!s:>12}",
            flush=True,
        )

    def comparable(r: dict[str, object]) -> bool:
        # Vehicles first: a distance gap only means something at the best-known number of vehicles (fewer
        # vehicles with more distance, or more with less, is a different solution class).
        return args.objective == "distance" or str(r["vehicles"]) == str(r["best_known_vehicles"])

    gaps = [float(g) for r in results if isinstance(g := r["gap_percent"], float | int) and comparable(r)]
    greedy_gaps = [float(g) for r in results if isinstance(g := r["greedy_gap_percent"], float | int)]
    summary = {
        "objective": args.objective,
        "convention": convention,
        "time_limit_s": args.time_limit,
        "seed": args.seed,
        "instances": len(results),
        "feasible": sum(1 for r in results if r["feasible"]),
        "mean_gap_percent": round(statistics.mean(gaps), 3) if gaps else None,
        "gap_instances": len(gaps),
        "max_gap_percent": round(max(gaps), 3) if gaps else None,
        "vehicles_above_best_known": sum(
            1
            for r in results
            if r["best_known_vehicles"] is not None
            and int(str(r["vehicles"])) > int(str(r["best_known_vehicles"]))
        ),
        "greedy_mean_gap_percent": round(statistics.mean(greedy_gaps), 3) if greedy_gaps else None,
        "results": results,
    }
    print(
        f"summary: {summary['feasible']}/{summary['instances']} feasible, mean gap {summary['mean_gap_percent']} % "
        f"over {summary['gap_instances']} instances, {summary['vehicles_above_best_known']} above best-known vehicles, "
        f"max gap {summary['max_gap_percent']} %, greedy mean gap {summary['greedy_mean_gap_percent']} %"
    )
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
