"""Work order lifecycle and appointment rules. Pure: no I/O, ``now`` passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum

from helpdesk.core.errors import InvalidTransition


class WorkOrderStatus(StrEnum):
    UNSCHEDULED = "unscheduled"
    SCHEDULED = "scheduled"
    DISPATCHED = "dispatched"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    COMPLETED = "completed"
    CANNOT_COMPLETE = "cannot_complete"
    CANCELLED = "cancelled"


_S = WorkOrderStatus
TRANSITIONS: dict[WorkOrderStatus, frozenset[WorkOrderStatus]] = {
    _S.UNSCHEDULED: frozenset({_S.SCHEDULED, _S.DISPATCHED, _S.CANCELLED}),
    _S.SCHEDULED: frozenset({_S.UNSCHEDULED, _S.SCHEDULED, _S.DISPATCHED, _S.EN_ROUTE, _S.CANCELLED}),
    _S.DISPATCHED: frozenset({_S.UNSCHEDULED, _S.SCHEDULED, _S.DISPATCHED, _S.EN_ROUTE, _S.CANCELLED}),
    _S.EN_ROUTE: frozenset({_S.ON_SITE, _S.CANNOT_COMPLETE, _S.CANCELLED}),
    _S.ON_SITE: frozenset({_S.COMPLETED, _S.CANNOT_COMPLETE}),
    _S.COMPLETED: frozenset(),
    # Another visit is needed: the order goes back to planning.
    _S.CANNOT_COMPLETE: frozenset({_S.UNSCHEDULED}),
    _S.CANCELLED: frozenset(),
}
# Orders a technician has started: re-planning keeps them where they are.
STARTED = frozenset({_S.EN_ROUTE, _S.ON_SITE, _S.COMPLETED})
# Orders a day plan may (re)place.
PLANNABLE = frozenset({_S.UNSCHEDULED, _S.SCHEDULED, _S.DISPATCHED})
# Steps a technician takes on their own order; everything else is the dispatcher's.
TECHNICIAN_STEPS = frozenset({_S.EN_ROUTE, _S.ON_SITE, _S.COMPLETED, _S.CANNOT_COMPLETE})
OPEN = frozenset(set(_S) - {_S.COMPLETED, _S.CANCELLED, _S.CANNOT_COMPLETE})


def check_transition(current: WorkOrderStatus, target: WorkOrderStatus) -> None:
    """Raise ``InvalidTransition`` (field ``status``) unless ``current → target`` is a lifecycle step."""
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing (it is final)"
        raise InvalidTransition(
            f"a {current} work order cannot become {target}; it can become {allowed}", field="status"
        )


APPOINTMENT_WINDOW = timedelta(hours=2)
_ROUND = 30 * 60


def appointment_window(planned_start: datetime) -> tuple[datetime, datetime]:
    """The arrival window told to the customer: two hours starting at the planned start rounded down to the
    half hour, so small re-timings inside the day do not break the promise."""
    seconds = int(planned_start.astimezone(UTC).timestamp())
    start = datetime.fromtimestamp(seconds - seconds % _ROUND, tz=UTC)
    return start, start + APPOINTMENT_WINDOW


def time_on_site_minutes(arrived_at: datetime | None, finished_at: datetime) -> int | None:
    if arrived_at is None:
        return None
    return max(0, round((finished_at - arrived_at).total_seconds() / 60))
