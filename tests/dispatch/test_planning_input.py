from __future__ import annotations

from datetime import datetime

import pytest

from dispatch.planning import LunchBreak, PlanningProblem, Technician, TimeWindow, WorkOrder
from dispatch.travel import MatrixTravel
from helpdesk.core.errors import InvalidInput

HOUR = 3600


def test_work_order_window_that_ends_before_it_starts_raises_naming_the_window() -> None:
    with pytest.raises(InvalidInput) as caught:
        WorkOrder(
            "w1", "p5", 600, windows=(TimeWindow(8 * HOUR, 10 * HOUR), TimeWindow(12 * HOUR, 11 * HOUR))
        )
    assert caught.value.field == "windows[1]"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"shift": TimeWindow(8 * HOUR, 8 * HOUR)}, "shift"),
        ({"shift": TimeWindow(17 * HOUR, 8 * HOUR)}, "shift"),
        ({"max_work_seconds": 0}, "max_work_seconds"),
        ({"lunch": LunchBreak(TimeWindow(12 * HOUR, 12 * HOUR + 600), 1800)}, "lunch.duration_seconds"),
        ({"capacity": -1}, "capacity"),
    ],
)
def test_technician_with_no_hours_or_bad_limits_raises_naming_the_field(
    kwargs: dict[str, object], field: str
) -> None:
    base: dict[str, object] = {"id": "t1", "home": "p0", "shift": TimeWindow(8 * HOUR, 17 * HOUR)}
    with pytest.raises(InvalidInput) as caught:
        Technician(**{**base, **kwargs})  # type: ignore[arg-type]
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("kwargs", "field"), [({"priority": 0}, "priority"), ({"duration_seconds": -1}, "duration_seconds")]
)
def test_work_order_with_bad_priority_or_duration_raises(kwargs: dict[str, object], field: str) -> None:
    base: dict[str, object] = {"id": "w1", "location": "p5", "duration_seconds": 600}
    with pytest.raises(InvalidInput) as caught:
        WorkOrder(**{**base, **kwargs})  # type: ignore[arg-type]
    assert caught.value.field == field


def test_problem_needs_an_aware_day_start_and_unique_ids(line_travel: MatrixTravel) -> None:
    tech = Technician("t1", "p0", TimeWindow(8 * HOUR, 17 * HOUR))
    with pytest.raises(InvalidInput) as caught:
        PlanningProblem(datetime(2025, 3, 3), (tech,), (), line_travel)  # noqa: DTZ001 - the point of the test
    assert caught.value.field == "day_start"
    with pytest.raises(InvalidInput) as caught:
        PlanningProblem(datetime.fromisoformat("2025-03-03T00:00:00+00:00"), (tech, tech), (), line_travel)
    assert caught.value.field == "technicians"
