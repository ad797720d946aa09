"""What ``helpdesk dispatch`` and the appointment mail read and write by hand: days, zones, durations (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from dispatch.cli import parse_day
from dispatch.plan_text import duration_text, zone_heading
from helpdesk.core.errors import InvalidInput
from helpdesk.field.appointments import zone_label

TODAY = date(2027, 3, 1)


@pytest.mark.parametrize(
    ("text", "day"),
    [("2027-03-05", date(2027, 3, 5)), ("today", TODAY), (" Tomorrow ", date(2027, 3, 2))],
)
def test_a_day_is_an_iso_date_today_or_tomorrow(text: str, day: date) -> None:
    assert parse_day(text, TODAY) == day


@pytest.mark.parametrize("text", ["01/03/2027", "2027-3-1", "20270301", "2027-02-30", "next week", ""])
def test_anything_else_is_refused_naming_the_date_argument(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_day(text, TODAY)

    assert refused.value.detail.startswith(f"DATE: {text!r} is not a date; use YYYY-MM-DD")


@pytest.mark.parametrize(
    ("zone", "day", "heading"),
    [
        ("Europe/Berlin", date(2027, 3, 1), "Europe/Berlin, CET"),
        ("Europe/Berlin", date(2027, 7, 1), "Europe/Berlin, CEST"),
        ("UTC", date(2027, 3, 1), "UTC"),
        ("Not/AZone", date(2027, 3, 1), "UTC"),
    ],
)
def test_a_plan_names_each_technicians_zone_as_it_is_on_that_day(zone: str, day: date, heading: str) -> None:
    assert zone_heading(zone, day) == heading


@pytest.mark.parametrize(
    ("zone", "at", "label"),
    [
        ("Europe/Moscow", datetime(2027, 3, 1, 9, tzinfo=UTC), "Europe/Moscow, MSK"),
        ("America/New_York", datetime(2027, 3, 14, 12, tzinfo=UTC), "America/New_York, EDT"),
        ("America/New_York", datetime(2027, 3, 14, 6, tzinfo=UTC), "America/New_York, EST"),
        ("UTC", datetime(2027, 3, 1, 9, tzinfo=UTC), "UTC"),
    ],
)
def test_the_appointment_mail_names_the_zone_as_it_is_at_the_visit(
    zone: str, at: datetime, label: str
) -> None:
    assert zone_label(ZoneInfo(zone), at) == label


@pytest.mark.parametrize(
    ("minutes", "text"), [(0, "0 min"), (45, "45 min"), (65, "1 h 05 min"), (-3, "0 min")]
)
def test_durations_read_in_hours_and_minutes(minutes: int, text: str) -> None:
    assert duration_text(minutes) == text
