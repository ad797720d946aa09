"""Stored technicians and work orders into a ``PlanningProblem`` for one day, and plans to and from rows.

The edge between the database and the pure planner: local working hours become UTC seconds from
``day_start`` (the earliest shift start of the day), absence days drop the technician, and work orders whose
customer windows miss the day are left out with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import msgspec

from dispatch.planning import (
    BreakSlot,
    LunchBreak,
    Plan,
    PlanningProblem,
    Route,
    Technician,
    TimeWindow,
    Unscheduled,
    UnscheduledReason,
    Visit,
    WorkOrder,
)
from dispatch.travel import GeoPoint, TravelProvider
from helpdesk.core.errors import InvalidInput
from sla.calendar import CalendarSpec, calendar_from_spec

if TYPE_CHECKING:
    from dispatch.models import PlanVisitRow, TechnicianRow, WorkOrderRow

_CLOCK = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


def parse_clock_interval(text: str, field: str) -> tuple[int, int]:
    """``"12:00-14:00"`` as minutes after midnight; raises ``InvalidInput`` naming ``field``."""
    match = _CLOCK.match(text.strip())
    if match is None:
        raise InvalidInput(f"{field}: {text!r} is not an interval like 12:00-14:00", field=field)
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if m1 > 59 or m2 > 59 or end > 24 * 60:
        raise InvalidInput(f"{field}: {text} is not a time of day", field=field)
    if end <= start:
        raise InvalidInput(f"{field}: {text} ends before it starts", field=field)
    return start, end


@dataclass(frozen=True)
class DayProblem:
    """The problem plus what was decided before planning: orders that cannot be planned on this day."""

    problem: PlanningProblem
    skipped: tuple[Unscheduled, ...]


@dataclass(frozen=True)
class _Shift:
    row: TechnicianRow
    start: datetime
    end: datetime
    lunch: tuple[datetime, datetime] | None


def _shift(row: TechnicianRow, day: date) -> _Shift | None:
    calendar = calendar_from_spec(msgspec.convert(row.hours, CalendarSpec))
    spans = calendar.day_spans(day)
    if not spans:
        return None
    lunch = None
    if row.lunch_window:
        start, end = parse_clock_interval(row.lunch_window, "lunch_window")
        midnight = datetime.combine(day, time(), tzinfo=calendar.zone)
        lunch = (
            (midnight + timedelta(minutes=start)).astimezone(UTC),
            (midnight + timedelta(minutes=end)).astimezone(UTC),
        )
    return _Shift(row, spans[0][0], spans[-1][1], lunch)


def build_problem(
    day: date,
    technicians: Iterable[TechnicianRow],
    orders: Iterable[WorkOrderRow],
    travel: TravelProvider,
    *,
    pinned: Mapping[int, int] | None = None,
    day_start: datetime | None = None,
) -> DayProblem:
    """The day's problem: technician and work order ids are the row ids as strings. ``pinned`` maps a work
    order id to the technician it must stay with; ``day_start`` keeps the time origin of a stored plan."""
    shifts = [s for s in (_shift(t, day) for t in technicians if t.is_active) if s is not None]
    midnight = datetime.combine(day, time(), tzinfo=UTC)
    if day_start is None:
        day_start = min((s.start for s in shifts), default=midnight)
    horizon_end = max(
        (s.end + timedelta(minutes=s.row.overtime.get(day.isoformat(), 0)) for s in shifts),
        default=midnight + timedelta(days=1),
    )

    def sec(at: datetime) -> int:
        return int((at - day_start).total_seconds())

    techs = tuple(
        Technician(
            id=str(s.row.id),
            home=GeoPoint(s.row.home_lat, s.row.home_lon),
            shift=TimeWindow(sec(s.start), sec(s.end)),
            skills=dict(s.row.skills),
            lunch=LunchBreak(TimeWindow(sec(s.lunch[0]), sec(s.lunch[1])), s.row.lunch_minutes * 60)
            if s.lunch
            else None,
            max_work_seconds=s.row.daily_limit_minutes * 60 if s.row.daily_limit_minutes else None,
            max_overtime_seconds=s.row.overtime.get(day.isoformat(), 0) * 60,
        )
        for s in shifts
    )
    work: list[WorkOrder] = []
    skipped: list[Unscheduled] = []
    for row in orders:
        windows = [(datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in row.windows]
        on_day = [(a, b) for a, b in windows if b > day_start and a < horizon_end]
        if windows and not on_day:
            skipped.append(
                Unscheduled(str(row.id), UnscheduledReason.NO_WINDOW_FITS, f"no customer window on {day}")
            )
            continue
        work.append(
            WorkOrder(
                id=str(row.id),
                location=GeoPoint(row.lat, row.lon),
                duration_seconds=row.duration_minutes * 60,
                windows=tuple(TimeWindow(sec(a), sec(b)) for a, b in on_day),
                required_skills=dict(row.required_skills),
                priority=row.priority,
                deadline_seconds=sec(row.deadline_at) if row.deadline_at else None,
                pinned_technician_id=str(pinned[row.id]) if pinned and row.id in pinned else None,
            )
        )
    problem = PlanningProblem(day_start=day_start, technicians=techs, work_orders=tuple(work), travel=travel)
    return DayProblem(problem, tuple(skipped))


def routes_json(plan: Plan) -> dict[str, Any]:
    """What a stored plan keeps per route besides its visits (seconds from the plan's ``day_start``)."""
    return {
        r.technician_id: {
            "departure": r.departure_seconds,
            "return": r.return_seconds,
            "lunch": [r.lunch.start_seconds, r.lunch.end_seconds] if r.lunch else None,
            "travel_seconds": r.travel_seconds,
            "travel_meters": r.travel_meters,
            "overtime_seconds": r.overtime_seconds,
        }
        for r in plan.routes
    }


def plan_from_rows(
    routes: Mapping[str, Any], visits: Sequence[PlanVisitRow], unscheduled: Sequence[Mapping[str, Any]]
) -> Plan:
    by_tech: dict[str, list[PlanVisitRow]] = {}
    for v in sorted(visits, key=lambda v: v.position):
        by_tech.setdefault(str(v.technician_id), []).append(v)
    out = []
    for tech_id in sorted(set(routes) | set(by_tech)):
        info = routes.get(tech_id, {})
        stops = by_tech.get(tech_id, [])
        lunch = info.get("lunch")
        out.append(
            Route(
                technician_id=tech_id,
                visits=tuple(
                    Visit(
                        str(v.work_order_id),
                        v.arrival_seconds,
                        v.start_seconds,
                        v.end_seconds,
                        v.lateness_seconds,
                    )
                    for v in stops
                ),
                departure_seconds=int(info.get("departure", stops[0].arrival_seconds if stops else 0)),
                return_seconds=int(info.get("return", stops[-1].end_seconds if stops else 0)),
                lunch=BreakSlot(int(lunch[0]), int(lunch[1])) if lunch else None,
                travel_seconds=int(info.get("travel_seconds", 0)),
                travel_meters=int(info.get("travel_meters", 0)),
                overtime_seconds=int(info.get("overtime_seconds", 0)),
            )
        )
    return Plan(
        routes=tuple(out),
        unscheduled=tuple(
            Unscheduled(str(u["work_order_id"]), UnscheduledReason(u["reason"]), str(u["detail"]))
            for u in unscheduled
        ),
    )
