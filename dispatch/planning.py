"""The solver-neutral model of a day plan: technicians, work orders, the problem, and the plan.

Pure data, no I/O. Every time is a whole number of seconds since ``PlanningProblem.day_start`` (an aware
datetime); services convert at the edge with :meth:`PlanningProblem.at`. Malformed input raises
``InvalidInput`` naming the field at construction, so a planner never sees it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from dispatch.travel import Location, TravelProvider
from helpdesk.core.errors import InvalidInput

PRIORITIES = (1, 2, 3, 4)  # 1 is the most urgent


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """Closed interval ``[start_seconds, end_seconds]``; owners check it and name the field."""

    start_seconds: int
    end_seconds: int

    def contains(self, seconds: int) -> bool:
        return self.start_seconds <= seconds <= self.end_seconds


def _check_window(window: TimeWindow, field_name: str, *, allow_empty: bool = True) -> None:
    if window.end_seconds < window.start_seconds or (
        not allow_empty and window.end_seconds == window.start_seconds
    ):
        raise InvalidInput(
            f"{field_name} ends ({window.end_seconds}) before it starts ({window.start_seconds})",
            field=field_name,
        )


@dataclass(frozen=True, slots=True)
class LunchBreak:
    """An unpaid break of ``duration_seconds`` taken in place, starting and ending inside ``window``."""

    window: TimeWindow
    duration_seconds: int

    @property
    def latest_start_seconds(self) -> int:
        return self.window.end_seconds - self.duration_seconds


@dataclass(frozen=True)
class Technician:
    """One technician's day. ``skills`` maps a skill name to the level held (higher is better).

    The technician leaves ``start_location`` (home by default; re-planning moves it to the current job) no
    earlier than ``shift.start_seconds`` and ``available_from_seconds``, and returns home. Working time is
    capped by the shift and ``max_work_seconds``; up to ``max_overtime_seconds`` past that cap is allowed and
    reported as overtime.
    """

    id: str
    home: Location
    shift: TimeWindow
    skills: Mapping[str, int] = field(default_factory=dict)
    lunch: LunchBreak | None = None
    max_work_seconds: int | None = None
    max_overtime_seconds: int = 0
    capacity: int | None = None
    start_location: Location | None = None
    available_from_seconds: int | None = None

    def __post_init__(self) -> None:
        if not self.id:
            raise InvalidInput("technician id is empty", field="id")
        _check_window(self.shift, "shift", allow_empty=False)
        if self.max_work_seconds is not None and self.max_work_seconds <= 0:
            raise InvalidInput("a technician needs working time", field="max_work_seconds")
        if self.max_overtime_seconds < 0:
            raise InvalidInput("overtime cannot be negative", field="max_overtime_seconds")
        if self.capacity is not None and self.capacity < 0:
            raise InvalidInput("capacity cannot be negative", field="capacity")
        if any(level < 0 for level in self.skills.values()):
            raise InvalidInput("skill levels cannot be negative", field="skills")
        if self.lunch is not None:
            _check_window(self.lunch.window, "lunch.window")
            if (
                not 0
                < self.lunch.duration_seconds
                <= self.lunch.window.end_seconds - self.lunch.window.start_seconds
            ):
                raise InvalidInput("the lunch break does not fit its window", field="lunch.duration_seconds")

    @property
    def origin(self) -> Location:
        return self.home if self.start_location is None else self.start_location

    @property
    def ready_seconds(self) -> int:
        """When the technician can leave ``origin``."""
        if self.available_from_seconds is None:
            return self.shift.start_seconds
        return max(self.shift.start_seconds, self.available_from_seconds)

    @property
    def work_end_seconds(self) -> int:
        """Return home by this time or it counts as overtime."""
        length = self.shift.end_seconds - self.shift.start_seconds
        if self.max_work_seconds is not None:
            length = min(length, self.max_work_seconds)
        return self.shift.start_seconds + length

    @property
    def latest_return_seconds(self) -> int:
        return self.work_end_seconds + self.max_overtime_seconds

    def has_skills(self, required: Mapping[str, int]) -> bool:
        return all(self.skills.get(skill, -1) >= level for skill, level in required.items())


@dataclass(frozen=True)
class WorkOrder:
    """A job at ``location`` taking ``duration_seconds`` on site.

    Service must start inside one of ``windows`` (none means any time). ``deadline_seconds`` is a soft SLA
    deadline on the end of service: missing it is reported as lateness, weighted by ``priority`` (1 most
    urgent, 4 least). ``pinned_technician_id`` and ``pinned_start_seconds`` fix what re-planning must keep.
    ``required`` orders are never dropped by the solver for a better objective (benchmarks use it).
    """

    id: str
    location: Location
    duration_seconds: int
    windows: tuple[TimeWindow, ...] = ()
    required_skills: Mapping[str, int] = field(default_factory=dict)
    priority: int = 3
    deadline_seconds: int | None = None
    demand: int = 0
    pinned_technician_id: str | None = None
    pinned_start_seconds: int | None = None
    required: bool = False

    def __post_init__(self) -> None:
        if not self.id:
            raise InvalidInput("work order id is empty", field="id")
        if self.duration_seconds < 0:
            raise InvalidInput("duration cannot be negative", field="duration_seconds")
        for i, window in enumerate(self.windows):
            _check_window(window, f"windows[{i}]")
        if self.priority not in PRIORITIES:
            raise InvalidInput(f"priority must be one of {PRIORITIES}", field="priority")
        if self.demand < 0:
            raise InvalidInput("demand cannot be negative", field="demand")

    def start_windows(self) -> tuple[TimeWindow, ...]:
        """The windows service may start in, after a pinned start (if any) narrowed them to one instant."""
        if self.pinned_start_seconds is not None:
            return (TimeWindow(self.pinned_start_seconds, self.pinned_start_seconds),)
        return self.windows or (TimeWindow(-(2**40), 2**40),)


@dataclass(frozen=True)
class PlanningProblem:
    """Everything a planner needs for one day. ``vehicle_cost_seconds`` prices using a technician at all."""

    day_start: datetime
    technicians: tuple[Technician, ...]
    work_orders: tuple[WorkOrder, ...]
    travel: TravelProvider
    vehicle_cost_seconds: int = 0

    def __post_init__(self) -> None:
        if self.day_start.tzinfo is None:
            raise InvalidInput("day_start must be timezone-aware", field="day_start")
        for name, ids in (
            ("technicians", [t.id for t in self.technicians]),
            ("work_orders", [w.id for w in self.work_orders]),
        ):
            if len(set(ids)) != len(ids):
                raise InvalidInput(f"{name} ids must be unique", field=name)

    def at(self, seconds: int) -> datetime:
        return self.day_start + timedelta(seconds=seconds)


class UnscheduledReason(StrEnum):
    NO_SKILLED_TECHNICIAN = "no_skilled_technician"
    NO_WINDOW_FITS = "no_window_fits"
    DURATION_EXCEEDS_SHIFT = "duration_exceeds_shift"
    CAPACITY = "capacity"
    PINNED_TECHNICIAN_UNAVAILABLE = "pinned_technician_unavailable"
    NO_ROOM_IN_PLAN = "no_room_in_plan"


@dataclass(frozen=True, slots=True)
class Visit:
    work_order_id: str
    arrival_seconds: int
    start_seconds: int
    end_seconds: int
    lateness_seconds: int = 0


@dataclass(frozen=True, slots=True)
class BreakSlot:
    start_seconds: int
    end_seconds: int


@dataclass(frozen=True)
class Route:
    """A technician's timed day: leave ``origin`` at ``departure_seconds``, visits in order, home again."""

    technician_id: str
    visits: tuple[Visit, ...]
    departure_seconds: int
    return_seconds: int
    lunch: BreakSlot | None = None
    travel_seconds: int = 0
    travel_meters: int = 0
    overtime_seconds: int = 0

    @property
    def lateness_seconds(self) -> int:
        return sum(v.lateness_seconds for v in self.visits)


@dataclass(frozen=True, slots=True)
class Unscheduled:
    work_order_id: str
    reason: UnscheduledReason
    detail: str = ""


@dataclass(frozen=True)
class Plan:
    """Routes for technicians who work, and every other work order with the reason it is not planned."""

    routes: tuple[Route, ...]
    unscheduled: tuple[Unscheduled, ...]
    solver: str = ""

    @property
    def served(self) -> int:
        return sum(len(r.visits) for r in self.routes)

    @property
    def travel_seconds(self) -> int:
        return sum(r.travel_seconds for r in self.routes)

    @property
    def travel_meters(self) -> int:
        return sum(r.travel_meters for r in self.routes)

    @property
    def lateness_seconds(self) -> int:
        return sum(r.lateness_seconds for r in self.routes)

    @property
    def overtime_seconds(self) -> int:
        return sum(r.overtime_seconds for r in self.routes)

    def route_of(self, technician_id: str) -> Route | None:
        return next((r for r in self.routes if r.technician_id == technician_id), None)

    def visit_of(self, work_order_id: str) -> tuple[str, Visit] | None:
        for route in self.routes:
            for visit in route.visits:
                if visit.work_order_id == work_order_id:
                    return route.technician_id, visit
        return None
