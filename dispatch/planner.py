"""``plan_day`` and ``replan``: the planning entry points a service calls with a ``PlanningProblem``.

Each work order is pre-checked alone against every technician (so an impossible one is reported with its
reason instead of silently dropped), the greedy baseline gives a first feasible plan, PyVRP improves it for
``time_limit_s``, every solver route is re-timed exactly and repaired if needed, and the better of the two
plans is returned only after ``validate_plan`` accepts it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from enum import StrEnum

from dispatch.greedy import plan_greedy, urgency_key
from dispatch.planning import (
    Plan,
    PlanningProblem,
    Route,
    Technician,
    Unscheduled,
    UnscheduledReason,
    WorkOrder,
)
from dispatch.pyvrp_adapter import OVERTIME_COST, PRIZE_PER_WEIGHT, solve_sequences
from dispatch.timing import PRIORITY_WEIGHT, ProblemIndex, RouteFailure, index_problem, time_route
from dispatch.validator import validate_plan


def plan_day(
    problem: PlanningProblem, time_limit_s: float = 30.0, seed: int = 0, *, warm_start: bool = True
) -> Plan:
    """A feasible plan for the day: ``validate_plan(problem, plan) == []`` holds for the result.

    Every work order is either visited or listed in ``plan.unscheduled`` with a reason. With
    ``time_limit_s <= 0`` only the greedy baseline runs; otherwise PyVRP runs for about ``time_limit_s``
    seconds with ``seed`` (same seed, same input, same machine load: same plan) and the plan with the
    better objective (served priority, lateness, travel, overtime) wins. ``warm_start`` seeds PyVRP with
    the greedy plan. Raises ``InvalidInput`` when the travel provider cannot place a location.
    """
    problem = replace(problem, technicians=tuple(_takeable_lunch(t) for t in problem.technicians))
    ix = index_problem(problem)
    orders, rejected = precheck(ix)
    greedy = plan_greedy(ix, orders, rejected)
    if time_limit_s <= 0 or not orders:
        return greedy
    sequences = solve_sequences(
        ix, orders, time_limit_s=time_limit_s, seed=seed, warm_start=greedy if warm_start else None
    )
    solved = plan_from_sequences(ix, sequences, orders, rejected, solver="pyvrp")
    if validate_plan(problem, solved, ix):
        return greedy  # a safety net: the solver's answer could not be repaired into a valid plan
    return solved if plan_cost(ix, solved) <= plan_cost(ix, greedy) else greedy


def precheck(ix: ProblemIndex) -> tuple[list[WorkOrder], list[Unscheduled]]:
    """Split the problem's orders into those some technician could serve alone and the impossible ones.

    The reason given is the first that applies: ``PINNED_TECHNICIAN_UNAVAILABLE``, ``NO_SKILLED_TECHNICIAN``,
    ``CAPACITY``, ``DURATION_EXCEEDS_SHIFT`` (longer than every skilled technician's working time),
    ``NO_WINDOW_FITS`` (no skilled technician can reach it, serve it in a window and get home in time).
    """
    possible: list[WorkOrder] = []
    rejected: list[Unscheduled] = []
    for order in ix.problem.work_orders:
        reason = _impossibility(ix, order)
        if reason is None:
            possible.append(order)
        else:
            rejected.append(Unscheduled(order.id, reason[0], reason[1]))
    return possible, rejected


def _impossibility(ix: ProblemIndex, order: WorkOrder) -> tuple[UnscheduledReason, str] | None:
    techs: Iterable[Technician] = ix.problem.technicians
    if order.pinned_technician_id is not None:
        pinned = ix.technicians.get(order.pinned_technician_id)
        if pinned is None or pinned.ready_seconds > pinned.latest_return_seconds:
            return (
                UnscheduledReason.PINNED_TECHNICIAN_UNAVAILABLE,
                f"{order.pinned_technician_id} is not working",
            )
        techs = [pinned]
    skilled = [t for t in techs if t.has_skills(order.required_skills)]
    if not skilled:
        return UnscheduledReason.NO_SKILLED_TECHNICIAN, f"nobody has {dict(order.required_skills)}"
    skilled = [t for t in skilled if t.capacity is None or t.capacity >= order.demand]
    if not skilled:
        return UnscheduledReason.CAPACITY, f"demand {order.demand} exceeds every capacity"
    skilled = [t for t in skilled if order.duration_seconds <= t.latest_return_seconds - t.ready_seconds]
    if not skilled:
        return UnscheduledReason.DURATION_EXCEEDS_SHIFT, f"{order.duration_seconds}s is longer than any shift"
    if not any(isinstance(time_route(ix, t, [order]), Route) for t in skilled):
        return UnscheduledReason.NO_WINDOW_FITS, "no skilled technician can serve it inside a window"
    return None


def plan_from_sequences(
    ix: ProblemIndex,
    sequences: Mapping[str, Sequence[str]],
    orders: Sequence[WorkOrder],
    rejected: Sequence[Unscheduled],
    *,
    solver: str,
) -> Plan:
    """Time each technician's sequence exactly; drop what does not fit and try to re-insert it elsewhere.

    Orders in ``orders`` but in no sequence are unscheduled with ``NO_ROOM_IN_PLAN``.
    """
    wanted = {o.id for o in orders}
    routes: dict[str, tuple[list[WorkOrder], Route]] = {}
    dropped: list[WorkOrder] = []
    load: dict[str, int] = {}
    for tech in ix.problem.technicians:
        seq: list[WorkOrder] = []
        load[tech.id] = 0
        for order_id in sequences.get(tech.id, ()):
            order = ix.orders[order_id]
            if order_id not in wanted or not _may_serve(tech, order, load[tech.id]):
                dropped.append(order)
                continue
            seq.append(order)
            load[tech.id] += order.demand
        while True:
            timed = time_route(ix, tech, seq)
            if isinstance(timed, Route):
                break
            removed = seq.pop(min(timed.position, len(seq) - 1))
            load[tech.id] -= removed.demand
            dropped.append(removed)
        if seq:
            routes[tech.id] = (seq, timed)
    unplaced: list[WorkOrder] = []
    for order in sorted(dropped, key=urgency_key):
        if not _reinsert(ix, order, routes, load):
            unplaced.append(order)
    served = {o.id for seq, _ in routes.values() for o in seq}
    left = list(rejected) + [
        Unscheduled(o.id, UnscheduledReason.NO_ROOM_IN_PLAN, "no technician had time left")
        for o in orders
        if o.id not in served
    ]
    ordered = tuple(routes[t.id][1] for t in ix.problem.technicians if t.id in routes)
    return Plan(routes=ordered, unscheduled=tuple(left), solver=solver)


def _may_serve(tech: Technician, order: WorkOrder, load: int) -> bool:
    if order.pinned_technician_id is not None and order.pinned_technician_id != tech.id:
        return False
    if tech.capacity is not None and load + order.demand > tech.capacity:
        return False
    return tech.has_skills(order.required_skills)


def _reinsert(
    ix: ProblemIndex, order: WorkOrder, routes: dict[str, tuple[list[WorkOrder], Route]], load: dict[str, int]
) -> bool:
    """Cheapest feasible insertion of ``order`` over every technician and position."""
    best: tuple[int, str, list[WorkOrder], Route] | None = None
    for tech in ix.problem.technicians:
        if not _may_serve(tech, order, load[tech.id]):
            continue
        seq, timed = routes.get(tech.id, ([], None))
        base = 0 if timed is None else timed.travel_seconds + OVERTIME_COST * timed.overtime_seconds
        for pos in range(len(seq) + 1):
            candidate = [*seq[:pos], order, *seq[pos:]]
            result = time_route(ix, tech, candidate)
            if isinstance(result, RouteFailure):
                continue
            delta = result.travel_seconds + OVERTIME_COST * result.overtime_seconds - base
            if best is None or delta < best[0]:
                best = (delta, tech.id, candidate, result)
    if best is None:
        return False
    routes[best[1]] = (best[2], best[3])
    load[best[1]] += order.demand
    return True


def plan_cost(ix: ProblemIndex, plan: Plan) -> int:
    """The objective both planners are compared on, in travel seconds: lost prizes, half a prize per late
    order, travel, overtime, and the cost of every technician used."""
    lost = sum(
        PRIZE_PER_WEIGHT * PRIORITY_WEIGHT[ix.orders[u.work_order_id].priority] for u in plan.unscheduled
    )
    late = sum(
        PRIZE_PER_WEIGHT * PRIORITY_WEIGHT[ix.orders[v.work_order_id].priority] // 2
        for r in plan.routes
        for v in r.visits
        if v.lateness_seconds > 0
    )
    used = ix.problem.vehicle_cost_seconds * sum(1 for r in plan.routes if r.visits)
    return lost + late + plan.travel_seconds + OVERTIME_COST * plan.overtime_seconds + used


def _takeable_lunch(tech: Technician) -> Technician:
    # A break whose window has passed (re-planning in the afternoon) is no longer planned.
    if tech.lunch is not None and tech.ready_seconds > tech.lunch.latest_start_seconds:
        return replace(tech, lunch=None)
    return tech


class VisitStatus(StrEnum):
    PLANNED = "planned"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    COMPLETED = "completed"


FROZEN = frozenset({VisitStatus.EN_ROUTE, VisitStatus.ON_SITE, VisitStatus.COMPLETED})


def replan(
    problem: PlanningProblem,
    plan: Plan,
    now_seconds: int,
    statuses: Mapping[str, VisitStatus],
    *,
    emergency: Sequence[WorkOrder] = (),
    time_limit_s: float = 5.0,
    seed: int = 0,
) -> Plan:
    """Re-plan the rest of the day at ``now_seconds`` without touching work already started.

    For each technician the visits that are ``EN_ROUTE``, ``ON_SITE`` or ``COMPLETED`` in ``statuses`` keep
    their technician, order and times; the technician restarts from the last of them when it ends (or
    now, if later); a lunch break that has begun stays. Everything else in ``problem`` plus the
    ``emergency`` orders (made required, so the solver makes room when it can) is planned again with
    ``plan_day``. The result is valid for ``problem`` with the emergency orders added.
    """
    frozen: dict[str, list[tuple[int, str]]] = {}
    kept_lunch: dict[str, Route] = {}
    for route in plan.routes:
        done = [i for i, v in enumerate(route.visits) if statuses.get(v.work_order_id) in FROZEN]
        frozen[route.technician_id] = (
            [(i, route.visits[i].work_order_id) for i in range(done[-1] + 1)] if done else []
        )
        if route.lunch is not None and route.lunch.start_seconds <= now_seconds:
            kept_lunch[route.technician_id] = route
    fixed_ids = {order_id for pairs in frozen.values() for _, order_id in pairs}
    old_routes = {r.technician_id: r for r in plan.routes}
    technicians = []
    for tech in problem.technicians:
        old = old_routes.get(tech.id)
        pairs = frozen.get(tech.id, [])
        ready = max(now_seconds, tech.ready_seconds)
        start = tech.origin
        if old is not None and pairs:
            last = old.visits[pairs[-1][0]]
            ready = max(ready, last.end_seconds)
            start = next(o.location for o in problem.work_orders if o.id == last.work_order_id)
        lunch = tech.lunch
        if tech.id in kept_lunch:
            lunch_slot = kept_lunch[tech.id].lunch
            assert lunch_slot is not None
            ready = max(ready, lunch_slot.end_seconds)
            lunch = None
        technicians.append(replace(tech, start_location=start, available_from_seconds=ready, lunch=lunch))
    rest = tuple(o for o in problem.work_orders if o.id not in fixed_ids)
    urgent = tuple(replace(o, required=True) for o in emergency)
    sub = replace(problem, technicians=tuple(technicians), work_orders=rest + urgent)
    new = plan_day(sub, time_limit_s=time_limit_s, seed=seed)
    full = replace(problem, work_orders=problem.work_orders + urgent)
    return _merge(index_problem(full), plan, new, frozen, kept_lunch)


def _merge(
    ix: ProblemIndex,
    old: Plan,
    new: Plan,
    frozen: Mapping[str, list[tuple[int, str]]],
    kept_lunch: Mapping[str, Route],
) -> Plan:
    """The kept head of each old route followed by the new plan's route for the same technician."""
    old_routes = {r.technician_id: r for r in old.routes}
    new_routes = {r.technician_id: r for r in new.routes}
    routes: list[Route] = []
    for tech in ix.problem.technicians:
        before = old_routes.get(tech.id)
        after = new_routes.get(tech.id)
        kept = [before.visits[i] for i, _ in frozen.get(tech.id, [])] if before is not None else []
        if before is None or (not kept and tech.id not in kept_lunch):
            if after is not None:
                routes.append(after)
            continue
        travel = meters = 0
        here = ix.loc(tech.origin)
        for visit in kept:
            there = ix.loc(ix.orders[visit.work_order_id].location)
            travel += ix.durations[here][there]
            meters += ix.distances[here][there]
            here = there
        lunch = kept_lunch[tech.id].lunch if tech.id in kept_lunch else (after.lunch if after else None)
        if after is None or not after.visits:
            home = ix.loc(tech.home)
            end = max((v.end_seconds for v in kept), default=before.departure_seconds)
            back = max(end, lunch.end_seconds if lunch else end) + ix.durations[here][home]
            routes.append(
                Route(
                    tech.id,
                    tuple(kept),
                    before.departure_seconds,
                    back,
                    lunch,
                    travel + ix.durations[here][home],
                    meters + ix.distances[here][home],
                    max(0, back - tech.work_end_seconds),
                )
            )
            continue
        routes.append(
            Route(
                technician_id=tech.id,
                visits=tuple(kept) + after.visits,
                departure_seconds=before.departure_seconds,
                return_seconds=after.return_seconds,
                lunch=lunch,
                travel_seconds=travel + after.travel_seconds,
                travel_meters=meters + after.travel_meters,
                overtime_seconds=after.overtime_seconds,
            )
        )
    return Plan(routes=tuple(routes), unscheduled=new.unscheduled, solver=new.solver)
