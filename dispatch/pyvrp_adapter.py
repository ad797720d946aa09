"""The one module that imports PyVRP: a day plan as a prize-collecting VRPTW, and the answer back as sequences.

How what PyVRP lacks is modelled (the planner re-times every returned sequence with ``dispatch.timing``):

- Skills (with levels), pins: one load dimension per distinct requirement ``(skill, min level)`` and per
  pinned technician. An order loads 1 in each dimension it needs; a technician's capacity there is "plenty"
  when qualified and 0 otherwise, so an unqualified assignment is excess load, which a feasible solution
  has none of. Capacity is one more, ordinary, dimension.
- Several availability windows, soft SLA deadlines: an order becomes a mutually exclusive client group with
  one client per window, each split into an on-time part (service ends by the deadline) and a late part
  with half the prize. Prizes grow with priority, so when time is short the solver drops low-priority work.
- Lunch breaks: a required dummy client per technician at a virtual location with zero travel to and from
  everything (the break is taken where the technician is), a window of its latest starts and the break's
  service time; a per-break-class load dimension of capacity 1 keeps each on a technician of its class,
  one per route. Zero travel lets the solver skip the leg it interrupts, so the timing pass re-places the
  break exactly and the planner repairs the rare route that no longer fits.
- Identical technicians share one vehicle type (Solomon fleets), which PyVRP searches better.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyvrp
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.search import LocalSearch, NeighbourhoodParams, PerturbationManager, compute_neighbours
from pyvrp.stop import MaxRuntime

from dispatch.planning import Plan, Technician, WorkOrder
from dispatch.timing import PRIORITY_WEIGHT, ProblemIndex
from dispatch.travel import GeoPoint

PRIZE_PER_WEIGHT = 3600  # seconds of travel worth spending to serve a priority-4 order
OVERTIME_COST = 2  # an overtime second costs two travel seconds


@dataclass(frozen=True)
class _Alternative:
    order_id: str | None  # None for a lunch break
    tw_early: int
    tw_late: int


def solve_sequences(
    ix: ProblemIndex,
    orders: Sequence[WorkOrder],
    *,
    time_limit_s: float,
    seed: int,
    warm_start: Plan | None = None,
) -> dict[str, list[str]]:
    """Order ids per technician id, as PyVRP's best solution after ``time_limit_s`` with ``seed``.

    Technicians must be able to start and their lunch (if any) still be takeable; the planner ensures it.
    Sequences are not timed and may violate rules the model only approximates (see the module docstring).
    """
    techs = [t for t in ix.problem.technicians if t.ready_seconds <= t.latest_return_seconds]
    if not techs or not orders:
        return {}
    built = _build(ix, orders, techs)
    initial = _initial_solution(built, warm_start) if warm_start is not None else None
    result = _search(built, time_limit_s, seed, initial)
    sequences: dict[str, list[str]] = {}
    free = {vt: list(ids) for vt, ids in enumerate(built.type_techs)}
    for route in result.best.routes():
        tech_id = free[route.vehicle_type()].pop(0)
        visits = [built.alternatives[a.idx].order_id for a in route.schedule() if a.is_client()]
        sequences[tech_id] = [v for v in visits if v is not None]
    return sequences


NUM_NEIGHBOURS = 50


def _search(built: _Built, time_limit_s: float, seed: int, initial: pyvrp.Solution | None) -> pyvrp.Result:
    """``pyvrp.solve`` with one change: lunch breaks sit at zero distance from everything, so PyVRP's
    granular neighbourhood would make them every client's nearest neighbours and starve the search.
    They are taken out of the clients' neighbour lists, and each break gets the clients whose windows
    overlap its own as neighbours instead."""
    data = built.data
    params = pyvrp.SolveParams()
    rng = pyvrp.RandomNumberGenerator(seed=seed)
    breaks = set(built.break_client.values())
    near = compute_neighbours(data, NeighbourhoodParams(num_neighbours=NUM_NEIGHBOURS + len(breaks)))
    neighbours = {}
    for activity, close in near.items():
        if activity.is_client() and activity.idx in breaks:
            mine = built.alternatives[activity.idx]
            overlap = [
                pyvrp.Activity(pyvrp.ActivityType.CLIENT, i)
                for i, alt in enumerate(built.alternatives)
                if alt.order_id is not None and alt.tw_early <= mine.tw_late and mine.tw_early <= alt.tw_late
            ]
            step = max(1, len(overlap) // NUM_NEIGHBOURS)
            neighbours[activity] = overlap[::step][:NUM_NEIGHBOURS]
        else:
            neighbours[activity] = [a for a in close if not (a.is_client() and a.idx in breaks)][
                :NUM_NEIGHBOURS
            ]
    ls = LocalSearch(data, rng, neighbours, PerturbationManager(params.perturbation))
    for operator in params.operators:
        if operator.supports(data):
            ls.add_operator(operator(data))
    penalties = pyvrp.PenaltyManager(params.penalty.midpoint_penalties(data), params.penalty)
    if initial is None:
        initial = ls(pyvrp.Solution.make_random(data, rng), penalties.max_cost_evaluator(), exhaustive=True)
    search = pyvrp.IteratedLocalSearch(data, penalties, ls, initial, params.ils)
    with warnings.catch_warnings():
        # Penalties hitting their cap on a crowded day is expected: infeasible sequences are repaired after.
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        return search.run(MaxRuntime(time_limit_s), False, False)


@dataclass
class _Built:
    data: pyvrp.ProblemData
    alternatives: list[_Alternative]
    type_techs: list[list[str]]
    type_of: dict[str, int]
    break_client: dict[str, int]


@dataclass(frozen=True)
class _Dimensions:
    """The load dimensions: capacity (when used), then skill requirements, pins, lunch classes."""

    capacity: bool
    skills: list[tuple[str, int]]
    pins: list[str]
    lunches: list[tuple[int, int, int]]
    plenty: int

    @property
    def size(self) -> int:
        return int(self.capacity) + len(self.skills) + len(self.pins) + len(self.lunches)

    def technician(self, tech: Technician, total_demand: int) -> list[int]:
        cap = [max(1, total_demand) if tech.capacity is None else tech.capacity] if self.capacity else []
        cap += [self.plenty if tech.skills.get(s, -1) >= lvl else 0 for s, lvl in self.skills]
        cap += [self.plenty if tech.id == p else 0 for p in self.pins]
        return cap + [1 if _lunch_class(tech) == k else 0 for k in self.lunches]

    def order(self, order: WorkOrder) -> list[int]:
        return (
            ([order.demand] if self.capacity else [])
            + [1 if order.required_skills.get(s) == lvl else 0 for s, lvl in self.skills]
            + [1 if order.pinned_technician_id == p else 0 for p in self.pins]
            + [0] * len(self.lunches)
        )

    def lunch(self, tech: Technician) -> list[int]:
        return [0] * (self.size - len(self.lunches)) + [
            1 if _lunch_class(tech) == k else 0 for k in self.lunches
        ]


def _lunch_class(tech: Technician) -> tuple[int, int, int] | None:
    lunch = tech.lunch
    return (
        None
        if lunch is None
        else (lunch.window.start_seconds, lunch.window.end_seconds, lunch.duration_seconds)
    )


def _build(ix: ProblemIndex, orders: Sequence[WorkOrder], techs: Sequence[Technician]) -> _Built:
    dims = _Dimensions(
        capacity=any(o.demand for o in orders) or any(t.capacity is not None for t in techs),
        skills=sorted({(s, lvl) for o in orders for s, lvl in o.required_skills.items()}),
        pins=sorted({o.pinned_technician_id for o in orders if o.pinned_technician_id is not None}),
        lunches=sorted({c for t in techs if (c := _lunch_class(t)) is not None}),
        plenty=len(orders) + 1,
    )
    n = len(ix.locations)
    matrix = np.zeros((n + 1, n + 1), dtype=np.int64)  # row and column n: the lunch location
    matrix[:n, :n] = ix.matrix.durations_seconds
    depot_locs = sorted({ix.loc(t.origin) for t in techs} | {ix.loc(t.home) for t in techs})
    vehicle_types, type_techs = _vehicle_types(ix, techs, dims, {loc: i for i, loc in enumerate(depot_locs)})
    clients, alternatives, groups = _order_clients(
        ix, orders, dims, max(t.latest_return_seconds for t in techs)
    )
    break_client: dict[str, int] = {}
    for tech in techs:
        if tech.lunch is None:
            continue
        break_client[tech.id] = len(clients)
        clients.append(
            pyvrp.Client(
                location=n,
                delivery=dims.lunch(tech),
                service_duration=tech.lunch.duration_seconds,
                tw_early=tech.lunch.window.start_seconds,
                tw_late=tech.lunch.latest_start_seconds,
                required=True,
                name=f"lunch:{tech.id}",
            )
        )
        alternatives.append(
            _Alternative(None, tech.lunch.window.start_seconds, tech.lunch.latest_start_seconds)
        )
    matrices: list[Any] = [matrix]
    data = pyvrp.ProblemData(
        locations=[_plane(loc) for loc in ix.locations] + [pyvrp.Location(0, 0)],
        clients=clients,
        depots=[pyvrp.Depot(location=loc) for loc in depot_locs],
        vehicle_types=vehicle_types,
        distance_matrices=matrices,
        duration_matrices=matrices,
        groups=groups,
    )
    type_of = {tid: vt for vt, ids in enumerate(type_techs) for tid in ids}
    return _Built(data, alternatives, type_techs, type_of, break_client)


def _vehicle_types(
    ix: ProblemIndex, techs: Sequence[Technician], dims: _Dimensions, depot_of: dict[int, int]
) -> tuple[list[pyvrp.VehicleType], list[list[str]]]:
    total_demand = sum(o.demand for o in ix.problem.work_orders)
    types: dict[tuple[int, ...], list[Technician]] = {}
    for tech in techs:
        capacity = dims.technician(tech, total_demand)
        key = (
            ix.loc(tech.origin),
            ix.loc(tech.home),
            tech.ready_seconds,
            tech.work_end_seconds,
            tech.max_overtime_seconds,
            *capacity,
        )
        types.setdefault(key, []).append(tech)
    vehicle_types = []
    for same in types.values():
        tech = same[0]
        vehicle_types.append(
            pyvrp.VehicleType(
                num_available=len(same),
                capacity=dims.technician(tech, total_demand),
                start_depot=depot_of[ix.loc(tech.origin)],
                end_depot=depot_of[ix.loc(tech.home)],
                fixed_cost=ix.problem.vehicle_cost_seconds,
                tw_early=tech.ready_seconds,
                start_late=tech.ready_seconds,  # leave at the shift start: overtime then equals a late return
                tw_late=tech.latest_return_seconds,
                shift_duration=tech.work_end_seconds - tech.ready_seconds,
                max_overtime=tech.max_overtime_seconds,
                unit_overtime_cost=OVERTIME_COST,
                name=tech.id,
            )
        )
    return vehicle_types, [[t.id for t in same] for same in types.values()]


def _order_clients(
    ix: ProblemIndex, orders: Sequence[WorkOrder], dims: _Dimensions, horizon: int
) -> tuple[list[pyvrp.Client], list[_Alternative], list[pyvrp.ClientGroup]]:
    clients: list[pyvrp.Client] = []
    alternatives: list[_Alternative] = []
    groups: list[pyvrp.ClientGroup] = []
    for order in orders:
        delivery = dims.order(order)
        options = _order_options(order, horizon, PRIZE_PER_WEIGHT * PRIORITY_WEIGHT[order.priority])
        grouped = len(options) > 1
        if grouped:
            groups.append(pyvrp.ClientGroup(required=order.required))
        for tw_early, tw_late, prize in options:
            if grouped:
                groups[-1].add_client(len(clients))
            clients.append(
                pyvrp.Client(
                    location=ix.loc(order.location),
                    delivery=delivery,
                    service_duration=order.duration_seconds,
                    tw_early=tw_early,
                    tw_late=tw_late,
                    prize=prize,
                    required=order.required and not grouped,
                    group=len(groups) - 1 if grouped else None,
                    name=order.id,
                )
            )
            alternatives.append(_Alternative(order.id, tw_early, tw_late))
    return clients, alternatives, groups


def _order_options(order: WorkOrder, horizon: int, prize: int) -> list[tuple[int, int, int]]:
    """``(earliest start, latest start, prize)`` per client standing for ``order``."""
    options: list[tuple[int, int, int]] = []
    on_time_until = (
        None if order.deadline_seconds is None else order.deadline_seconds - order.duration_seconds
    )
    for window in order.start_windows():
        early, late = max(0, window.start_seconds), min(horizon, window.end_seconds)
        if early > late:
            continue
        if on_time_until is None or late <= on_time_until:
            options.append((early, late, prize))
            continue
        if early <= on_time_until:
            options.append((early, on_time_until, prize))
        options.append((max(early, on_time_until + 1), late, prize // 2))
    return options


def _initial_solution(built: _Built, plan: Plan) -> pyvrp.Solution:
    by_order: dict[str, list[int]] = {}
    for i, alt in enumerate(built.alternatives):
        if alt.order_id is not None:
            by_order.setdefault(alt.order_id, []).append(i)
    routes: list[pyvrp.Route] = []
    planned = {r.technician_id: r for r in plan.routes}
    for tech_id, vt in built.type_of.items():
        route = planned.get(tech_id)
        visits: list[int] = []
        lunch_at = None if route is None or route.lunch is None else route.lunch.start_seconds
        for visit in route.visits if route is not None else ():
            if lunch_at is not None and visit.start_seconds >= lunch_at and tech_id in built.break_client:
                visits.append(built.break_client[tech_id])
                lunch_at = None
            fits = [
                i
                for i in by_order.get(visit.work_order_id, ())
                if built.alternatives[i].tw_early <= visit.start_seconds <= built.alternatives[i].tw_late
            ]
            if fits:
                visits.append(fits[0])
        if tech_id in built.break_client and built.break_client[tech_id] not in visits:
            visits.append(built.break_client[tech_id])
        if visits:
            routes.append(pyvrp.Route(built.data, visits, vt))
    return pyvrp.Solution(built.data, routes)


def _plane(location: object) -> pyvrp.Location:
    # Coordinates only label PyVRP's plots; the search reads the matrices.
    if isinstance(location, GeoPoint):
        return pyvrp.Location(round(location.lon * 1e5), round(location.lat * 1e5))
    return pyvrp.Location(0, 0)
