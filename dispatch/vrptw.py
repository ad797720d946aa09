"""Solomon and Gehring–Homberger VRPTW instances as planning problems, and their exact re-check.

Two scoring conventions, never mixed (see the data README):

- ``trunc1``: distance ``floor(10 * euclid) / 10``. Everything is scaled by 10 to integers, so the planner
  works on exactly the numbers the convention scores, and the re-check is integer arithmetic.
- ``double``: full-precision Euclidean distance. The planner gets distances scaled by 1000 and rounded *up*
  (a plan feasible with longer legs stays feasible); the re-check uses 50-digit decimals.

A planning problem's "seconds" are instance time units times the scale.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Context, Decimal
from pathlib import Path
from typing import Literal

from dispatch.planning import PlanningProblem, Technician, TimeWindow, WorkOrder
from dispatch.travel import MatrixTravel
from helpdesk.core.errors import InvalidInput

Convention = Literal["trunc1", "double"]
SCALE: dict[Convention, int] = {"trunc1": 10, "double": 1000}
_DECIMAL = Context(prec=50)


@dataclass(frozen=True)
class Node:
    id: int
    x: int
    y: int
    demand: int
    ready: int
    due: int
    service: int


@dataclass(frozen=True)
class VrptwInstance:
    """Node 0 is the depot; its due date ends the horizon."""

    name: str
    vehicles: int
    capacity: int
    nodes: tuple[Node, ...] = field(repr=False)


def read_instance(path: str | Path) -> VrptwInstance:
    """Parse a Solomon-format file. Raises ``InvalidInput`` (field ``path``) when it is not one."""
    lines = [line.split() for line in Path(path).read_text().splitlines()]
    rows = [row for row in lines if row]
    try:
        fleet = next(i for i, row in enumerate(rows) if row[0].upper() == "NUMBER")
        vehicles, capacity = int(rows[fleet + 1][0]), int(rows[fleet + 1][1])
        nodes = tuple(
            Node(*(int(float(v)) for v in row[:7])) for row in rows if len(row) >= 7 and row[0].isdigit()
        )
    except (StopIteration, IndexError, ValueError) as exc:
        raise InvalidInput(f"{path} is not a Solomon-format instance: {exc}", field="path") from exc
    if not nodes or nodes[0].id != 0 or [n.id for n in nodes] != list(range(len(nodes))):
        raise InvalidInput(f"{path} must list nodes 0..n in order", field="path")
    return VrptwInstance(rows[0][0], vehicles, capacity, nodes)


def scaled_distance(a: Node, b: Node, convention: Convention) -> int:
    """``floor(10 * euclid)`` under ``trunc1``; ``ceil(1000 * euclid)`` under ``double`` — exact integers."""
    square = (a.x - b.x) ** 2 + (a.y - b.y) ** 2
    if convention == "trunc1":
        return math.isqrt(100 * square)
    scaled = 1_000_000 * square
    root = math.isqrt(scaled)
    return root if root * root == scaled else root + 1


def to_problem(
    instance: VrptwInstance, convention: Convention = "trunc1", *, vehicle_cost: int = 0
) -> PlanningProblem:
    """Vehicles become technicians at the depot, customers required work orders with one window."""
    scale = SCALE[convention]
    nodes = instance.nodes
    keys = [f"n{n.id}" for n in nodes]
    matrix = [[scaled_distance(a, b, convention) for b in nodes] for a in nodes]
    depot = nodes[0]
    shift = TimeWindow(depot.ready * scale, depot.due * scale)
    techs = tuple(
        Technician(id=f"v{i + 1}", home=keys[0], shift=shift, capacity=instance.capacity)
        for i in range(instance.vehicles)
    )
    orders = tuple(
        WorkOrder(
            id=str(n.id),
            location=keys[n.id],
            duration_seconds=n.service * scale,
            windows=(TimeWindow(n.ready * scale, n.due * scale),),
            demand=n.demand,
            required=True,
        )
        for n in nodes[1:]
    )
    return PlanningProblem(
        day_start=datetime(2000, 1, 1, tzinfo=UTC),
        technicians=techs,
        work_orders=orders,
        travel=MatrixTravel(keys, matrix),
        vehicle_cost_seconds=vehicle_cost,
    )


@dataclass(frozen=True)
class CheckResult:
    feasible: bool
    vehicles: int
    distance: float
    problems: tuple[str, ...]


def check_routes(
    instance: VrptwInstance, routes: Sequence[Sequence[int]], convention: Convention
) -> CheckResult:
    """Re-check customer-id routes in exact arithmetic: every customer once, capacity, every time window
    (service starts by the due date, waiting allowed) and the depot's horizon. ``distance`` is the
    convention's total: tenths summed as integers under ``trunc1``, 50-digit decimals under ``double``."""
    nodes = instance.nodes
    problems: list[str] = []
    seen = [c for route in routes for c in route]
    missing = set(range(1, len(nodes))) - set(seen)
    if missing or len(seen) != len(set(seen)) or any(not 0 < c < len(nodes) for c in seen):
        problems.append(f"customers missing {sorted(missing)[:5]} or repeated or unknown")
    total = Decimal(0)
    for r, route in enumerate(r for r in routes if r):
        if sum(nodes[c].demand for c in route if 0 < c < len(nodes)) > instance.capacity:
            problems.append(f"route {r} exceeds capacity")
        time = Decimal(0)
        here = nodes[0]
        for c in [*route, 0]:
            there = nodes[c] if 0 <= c < len(nodes) else nodes[0]
            leg = _exact_leg(here, there, convention)
            total += leg
            time = max(time + leg, Decimal(there.ready))
            if time > there.due:
                problems.append(f"route {r} reaches {there.id} at {time:.4f} after due {there.due}")
            time += there.service
            here = there
    return CheckResult(not problems, sum(1 for r in routes if r), float(total), tuple(problems))


def _exact_leg(a: Node, b: Node, convention: Convention) -> Decimal:
    square = (a.x - b.x) ** 2 + (a.y - b.y) ** 2
    if convention == "trunc1":
        return Decimal(math.isqrt(100 * square)) / 10
    return Decimal(square).sqrt(_DECIMAL)
