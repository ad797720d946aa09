"""Exact timing of one technician's ordered visits, lunch break included: the single source of truth.

The greedy baseline, the solver adapter (after converting PyVRP routes back) and manual moves all time routes
here, so a plan's times never depend on which solver produced its order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dispatch.planning import BreakSlot, PlanningProblem, Route, Technician, Visit, WorkOrder
from dispatch.travel import Location, TravelMatrix

# Lateness of an urgent order hurts more: the weights order the break placements and the solver's prizes.
PRIORITY_WEIGHT = {1: 8, 2: 4, 3: 2, 4: 1}


@dataclass(frozen=True)
class ProblemIndex:
    """A problem with its travel matrix fetched once and every location numbered."""

    problem: PlanningProblem
    locations: tuple[Location, ...]
    matrix: TravelMatrix
    durations: list[list[int]]
    distances: list[list[int]]
    location_index: dict[Location, int]
    orders: dict[str, WorkOrder]
    technicians: dict[str, Technician]

    def loc(self, location: Location) -> int:
        return self.location_index[location]


def index_problem(problem: PlanningProblem) -> ProblemIndex:
    """Number the distinct locations of ``problem`` and ask its travel provider for one matrix."""
    index: dict[Location, int] = {}
    for tech in problem.technicians:
        index.setdefault(tech.origin, len(index))
        index.setdefault(tech.home, len(index))
    for order in problem.work_orders:
        index.setdefault(order.location, len(index))
    locations = tuple(index)
    matrix = problem.travel.matrix(locations)
    return ProblemIndex(
        problem=problem,
        locations=locations,
        matrix=matrix,
        # Plain lists: scalar indexing is several times faster than on numpy arrays in the hot loops.
        durations=matrix.durations_seconds.tolist(),
        distances=matrix.distances_meters.tolist(),
        location_index=index,
        orders={o.id: o for o in problem.work_orders},
        technicians={t.id: t for t in problem.technicians},
    )


@dataclass(frozen=True, slots=True)
class RouteFailure:
    """Why a sequence cannot be timed: ``position`` is the first order that cannot be served on time
    (``len(orders)`` when the way home is the problem)."""

    position: int


def time_route(ix: ProblemIndex, tech: Technician, orders: Sequence[WorkOrder]) -> Route | RouteFailure:
    """Time ``orders`` in this order for ``tech`` as early as possible.

    Guarantees on success: every visit starts inside one of its windows, travel between consecutive stops
    is respected, the return home is no later than ``tech.latest_return_seconds``, and when the technician
    has a lunch break and any visit, the break lies inside its window and overlaps no travel or service.
    Of all break placements it picks the one with the least overtime, then weighted lateness, then the
    earliest return. Skills and capacity are not checked here (see ``dispatch.validator``).
    """
    if not orders:
        return Route(tech.id, (), tech.ready_seconds, tech.ready_seconds)
    placements: Sequence[int | None] = [None] if tech.lunch is None else range(2 * len(orders) + 2)
    best: tuple[tuple[int, int, int], Route] | None = None
    furthest = -1
    for placement in placements:
        result = _simulate(ix, tech, orders, placement)
        if isinstance(result, int):
            furthest = max(furthest, result)
            continue
        key = (
            result.overtime_seconds,
            sum(
                v.lateness_seconds * PRIORITY_WEIGHT[ix.orders[v.work_order_id].priority]
                for v in result.visits
            ),
            result.return_seconds,
        )
        if best is None or key < best[0]:
            best = (key, result)
    return RouteFailure(furthest) if best is None else best[1]


def _simulate(
    ix: ProblemIndex, tech: Technician, orders: Sequence[WorkOrder], placement: int | None
) -> Route | int:
    """One timing pass. ``placement`` 2g puts the break before leaving for stop g (stop ``len(orders)`` is
    home), 2g+1 on arrival at stop g before service; the break is taken in place, so it adds no travel."""
    durations, distances = ix.durations, ix.distances
    lunch = tech.lunch
    t = tech.ready_seconds
    here = ix.loc(tech.origin)
    home = ix.loc(tech.home)
    visits: list[Visit] = []
    lunch_slot: BreakSlot | None = None
    departure = t
    travel = meters = 0
    n = len(orders)
    for g in range(n + 1):
        if placement == 2 * g and lunch is not None:
            begin = max(t, lunch.window.start_seconds)
            if begin > lunch.latest_start_seconds:
                return g
            lunch_slot = BreakSlot(begin, begin + lunch.duration_seconds)
            t = lunch_slot.end_seconds
        if g == 0:
            departure = t
        there = ix.loc(orders[g].location) if g < n else home
        arrival = t + durations[here][there]
        travel += durations[here][there]
        meters += distances[here][there]
        ready = arrival
        if placement == 2 * g + 1 and lunch is not None:
            begin = max(arrival, lunch.window.start_seconds)
            if begin > lunch.latest_start_seconds:
                return g
            lunch_slot = BreakSlot(begin, begin + lunch.duration_seconds)
            # A break at home after the day is over does not delay the return.
            ready = lunch_slot.end_seconds if g < n else arrival
        if g == n:
            t = ready
            break
        order = orders[g]
        start = _earliest_start(order, ready)
        if start is None:
            return g
        end = start + order.duration_seconds
        late = 0 if order.deadline_seconds is None else max(0, end - order.deadline_seconds)
        visits.append(Visit(order.id, arrival, start, end, late))
        t = end
        here = there
    if t > tech.latest_return_seconds:
        return n
    return Route(
        technician_id=tech.id,
        visits=tuple(visits),
        departure_seconds=departure,
        return_seconds=t,
        lunch=lunch_slot,
        travel_seconds=travel,
        travel_meters=meters,
        overtime_seconds=max(0, t - tech.work_end_seconds),
    )


def _earliest_start(order: WorkOrder, ready: int) -> int | None:
    best: int | None = None
    for window in order.start_windows():
        start = max(ready, window.start_seconds)
        if start <= window.end_seconds and (best is None or start < best):
            best = start
    return best
