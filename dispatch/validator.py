"""Re-checks a plan against its problem from scratch: used by tests, the planner's safety net and manual moves.

It trusts nothing in the plan: times are re-derived bounds, not re-computed schedules, so a hand-edited plan
with later-than-necessary times is accepted as long as it is physically and contractually possible.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from enum import StrEnum

from dispatch.planning import BreakSlot, Plan, PlanningProblem, Route, Technician, Visit
from dispatch.timing import ProblemIndex, index_problem


class ViolationCode(StrEnum):
    UNKNOWN_TECHNICIAN = "unknown_technician"
    UNKNOWN_WORK_ORDER = "unknown_work_order"
    DUPLICATE = "duplicate"
    MISSING = "missing"
    SKILL = "skill"
    CAPACITY = "capacity"
    PINNED = "pinned"
    WINDOW = "window"
    TRAVEL = "travel"
    DURATION = "duration"
    SHIFT = "shift"
    BREAK = "break"


@dataclass(frozen=True, slots=True)
class Violation:
    code: ViolationCode
    technician_id: str | None
    work_order_id: str | None
    detail: str


def validate_plan(problem: PlanningProblem, plan: Plan, ix: ProblemIndex | None = None) -> list[Violation]:
    """Every way ``plan`` breaks ``problem``'s hard rules; an empty list means feasible.

    Checked: each work order is either visited once or unscheduled once; technicians exist and work one
    route; skills, capacity and pins hold; each visit starts in a window and lasts its duration; travel
    between stops fits; the day starts no earlier than the technician is ready and ends by the latest
    return; a technician with a lunch break and any visit takes it whole, inside its window, overlapping
    no visit or travel. Lateness and overtime within the allowance are soft and not violations.
    """
    ix = ix or index_problem(problem)
    found: list[Violation] = []
    seen = Counter([v.work_order_id for r in plan.routes for v in r.visits])
    seen.update(u.work_order_id for u in plan.unscheduled)
    for order_id, count in seen.items():
        if order_id not in ix.orders:
            found.append(Violation(ViolationCode.UNKNOWN_WORK_ORDER, None, order_id, "not in the problem"))
        elif count > 1:
            found.append(Violation(ViolationCode.DUPLICATE, None, order_id, f"appears {count} times"))
    for order_id in ix.orders.keys() - seen.keys():
        found.append(Violation(ViolationCode.MISSING, None, order_id, "neither visited nor unscheduled"))
    techs = Counter(r.technician_id for r in plan.routes)
    for route in plan.routes:
        tech = ix.technicians.get(route.technician_id)
        if tech is None:
            found.append(
                Violation(ViolationCode.UNKNOWN_TECHNICIAN, route.technician_id, None, "not in problem")
            )
            continue
        if techs[route.technician_id] > 1:
            found.append(Violation(ViolationCode.DUPLICATE, tech.id, None, "more than one route"))
        found.extend(_check_route(ix, tech, route))
    return found


def _check_route(ix: ProblemIndex, tech: Technician, route: Route) -> list[Violation]:
    found: list[Violation] = []

    def fail(code: ViolationCode, order_id: str | None, detail: str) -> None:
        found.append(Violation(code, tech.id, order_id, detail))

    visits = [v for v in route.visits if v.work_order_id in ix.orders]
    load = sum(ix.orders[v.work_order_id].demand for v in visits)
    if tech.capacity is not None and load > tech.capacity:
        fail(ViolationCode.CAPACITY, None, f"load {load} exceeds capacity {tech.capacity}")
    lunch = route.lunch
    found.extend(_check_lunch(tech, lunch, bool(visits)))
    if route.departure_seconds < tech.ready_seconds:
        fail(ViolationCode.SHIFT, None, "leaves before the technician is ready")
    here, free_at = ix.loc(tech.origin), route.departure_seconds
    if lunch is not None and lunch.start_seconds < route.departure_seconds:
        # A break before leaving is taken at the origin, not on the road.
        free_at = max(free_at, lunch.end_seconds)
    stops = [(ix.orders[v.work_order_id].location, v) for v in visits] + [(tech.home, None)]
    for location, visit in stops:
        there = ix.loc(location)
        order_id = visit.work_order_id if visit else None
        arrival = visit.arrival_seconds if visit else route.return_seconds
        service_start = visit.start_seconds if visit else arrival
        earliest = free_at + ix.durations[here][there]
        if (
            lunch is not None
            and free_at <= lunch.start_seconds < service_start
            and lunch.start_seconds < arrival
        ):
            # Not waiting on site, so the break was taken before leaving: the whole leg comes after it.
            earliest = max(earliest, lunch.end_seconds + ix.durations[here][there])
        if arrival < earliest:
            fail(ViolationCode.TRAVEL, order_id, f"arrives at {arrival}, cannot before {earliest}")
        if visit is None:
            if route.return_seconds > tech.latest_return_seconds:
                fail(
                    ViolationCode.SHIFT,
                    None,
                    f"returns at {route.return_seconds} after {tech.latest_return_seconds}",
                )
            break
        found.extend(_check_visit(ix, tech, visit, lunch))
        here, free_at = there, visit.end_seconds
    return found


def _check_visit(
    ix: ProblemIndex, tech: Technician, visit: Visit, lunch: BreakSlot | None
) -> list[Violation]:
    found: list[Violation] = []
    order = ix.orders[visit.work_order_id]

    def fail(code: ViolationCode, order_id: str | None, detail: str) -> None:
        found.append(Violation(code, tech.id, order_id, detail))

    if not tech.has_skills(order.required_skills):
        fail(ViolationCode.SKILL, order.id, f"needs {dict(order.required_skills)}")
    if order.pinned_technician_id is not None and order.pinned_technician_id != tech.id:
        fail(ViolationCode.PINNED, order.id, f"pinned to {order.pinned_technician_id}")
    if visit.start_seconds < visit.arrival_seconds:
        fail(ViolationCode.TRAVEL, order.id, "starts before arriving")
    if not any(w.contains(visit.start_seconds) for w in order.start_windows()):
        fail(ViolationCode.WINDOW, order.id, f"starts at {visit.start_seconds} outside its windows")
    if visit.end_seconds - visit.start_seconds != order.duration_seconds:
        fail(ViolationCode.DURATION, order.id, "service time differs from the order's duration")
    if (
        lunch is not None
        and lunch.start_seconds < visit.end_seconds
        and visit.start_seconds < lunch.end_seconds
    ):
        fail(ViolationCode.BREAK, order.id, "service overlaps the lunch break")
    return found


def _check_lunch(tech: Technician, lunch: BreakSlot | None, works: bool) -> list[Violation]:
    if tech.lunch is None or not works:
        return []
    if lunch is None:
        return [Violation(ViolationCode.BREAK, tech.id, None, "no lunch break")]
    if (
        lunch.end_seconds - lunch.start_seconds != tech.lunch.duration_seconds
        or lunch.start_seconds < tech.lunch.window.start_seconds
        or lunch.end_seconds > tech.lunch.window.end_seconds
    ):
        return [Violation(ViolationCode.BREAK, tech.id, None, f"break {lunch} is not {tech.lunch}")]
    return []
