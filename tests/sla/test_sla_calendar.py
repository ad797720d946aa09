"""Business calendar parsing and validation: every problem is an InvalidInput that names its field."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import pytest

from helpdesk.core.errors import InvalidInput
from sla.calendar import WEEKDAYS, CalendarSpec, calendar_from_dict, calendar_from_spec

WORKDAY = ["09:00-13:00", "14:00-18:00"]
MOSCOW: dict[str, Any] = {
    "timezone": "Europe/Moscow",
    "week": {"mon": WORKDAY, "tue": WORKDAY, "wed": WORKDAY, "thu": WORKDAY, "fri": WORKDAY, "sun": []},
    "holidays": ["2027-01-07"],
    "holiday_country": "RU",
    "holiday_subdivision": None,
    "extra_working_days": ["2027-01-09"],
}


def with_changes(**changes: Any) -> dict[str, Any]:
    return {**MOSCOW, **changes}


def test_documented_example_calendar_is_accepted() -> None:
    calendar = calendar_from_dict(MOSCOW)

    assert calendar.zone == ZoneInfo("Europe/Moscow")
    assert calendar.week[0] == ((9 * 60, 13 * 60), (14 * 60, 18 * 60))
    assert calendar.week[5] == ()
    assert not calendar.always_open


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        (with_changes(week={"mon": ["09:00-13:00", "14:00-13:00"]}), "week.mon[1]", "ends before it starts"),
        (with_changes(week={"mon": ["09:00-13:00", "12:00-14:00"]}), "week.mon[1]", "overlaps week.mon[0]"),
        (with_changes(week={"tue": ["12:00-14:00", "09:00-13:00"]}), "week.tue[0]", "overlaps week.tue[1]"),
        (with_changes(week={"mon": ["09:00-09:00"]}), "week.mon[0]", "is empty"),
        (with_changes(week={"mon": ["9-18"]}), "week.mon[0]", "not an interval like 09:00-13:00"),
        (with_changes(week={"mon": ["09:00-25:00"]}), "week.mon[0]", "not a time of day"),
        (with_changes(week={"mon": ["09:60-10:00"]}), "week.mon[0]", "not a time of day"),
        (with_changes(week={"mon": ["24:00-24:00"]}), "week.mon[0]", "starts at 24:00"),
        (with_changes(week={"mon": [9]}), "week.mon[0]", "Expected `str`"),
        (with_changes(week={"monday": WORKDAY}), "week.monday", "expected one of mon, tue"),
        (with_changes(week={}), "week", "no working hours"),
        (with_changes(timezone="Mars/Olympus_Mons"), "timezone", "unknown time zone"),
        (with_changes(timezone="../etc/passwd"), "timezone", "unknown time zone"),
        (with_changes(holiday_country="XX"), "holiday_country", "no holiday data"),
        (
            with_changes(holiday_country="US", holiday_subdivision="ZZ"),
            "holiday_subdivision",
            "no subdivision",
        ),
        (with_changes(holiday_country=None, holiday_subdivision="BY"), "holiday_subdivision", "needs"),
        (with_changes(holidays=["2027-02-30"]), "holidays[0]", "not a date"),
        (with_changes(extra_working_days=["2027-01-07"]), "extra_working_days[0]", "also listed in holidays"),
        (with_changes(extra_working_day_hours="monday"), "extra_working_day_hours", "Invalid enum value"),
        (with_changes(opening_hours="always"), "opening_hours", "unknown field"),
    ],
)
def test_invalid_calendar_raises_invalid_input_naming_the_field(
    data: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        calendar_from_dict(data)

    assert raised.value.field == field
    assert raised.value.detail.startswith(f"{field}: ")
    assert words in raised.value.detail


def test_calendar_that_is_not_an_object_is_rejected_without_a_field() -> None:
    with pytest.raises(InvalidInput) as raised:
        calendar_from_dict(["09:00-18:00"])

    assert raised.value.field is None
    assert "Expected `object`" in raised.value.detail


def test_touching_intervals_form_one_working_stretch() -> None:
    calendar = calendar_from_dict({"week": {"mon": ["13:00-18:00", "09:00-13:00"]}})

    assert calendar.week[0] == ((9 * 60, 18 * 60),)


@pytest.mark.parametrize(
    "data",
    [
        {"24/7": True},
        {"24/7": True, "timezone": "Europe/Berlin", "holidays": ["2027-12-25"]},
        {
            "timezone": "America/New_York",
            "week": {day: ["00:00-24:00"] for day in WEEKDAYS},
        },
    ],
)
def test_round_the_clock_calendars_are_always_open(data: dict[str, Any]) -> None:
    assert calendar_from_dict(data).always_open


def test_round_the_clock_hours_with_holidays_still_close_on_holidays() -> None:
    every_day = {day: ["00:00-24:00"] for day in WEEKDAYS}
    calendar = calendar_from_dict({"week": every_day, "holidays": ["2027-12-25"]})

    assert not calendar.always_open
    assert calendar.day_spans(date(2027, 12, 25)) == ()


@pytest.mark.parametrize(
    ("day", "hours"),
    [
        (date(2027, 1, 11), ((540, 780), (840, 1080))),  # an ordinary Monday
        (date(2027, 1, 7), ()),  # Orthodox Christmas, explicit and from the holidays package
        (date(2027, 1, 5), ()),  # New Year holidays, from the holidays package only
        (date(2027, 1, 9), ((540, 780), (840, 1080))),  # Saturday made working: Monday's hours
        (date(2027, 2, 20), ((540, 780), (840, 1080))),  # Saturday Russia moved a day off from
        (date(2027, 1, 10), ()),  # an ordinary Sunday
    ],
)
def test_local_hours_follow_weekdays_holidays_and_extra_working_days(
    day: date, hours: tuple[tuple[int, int], ...]
) -> None:
    assert calendar_from_dict(MOSCOW).local_hours(day) == hours


def test_country_working_weekends_can_be_switched_off() -> None:
    calendar = calendar_from_dict(with_changes(holiday_country_workdays=False))

    assert calendar.local_hours(date(2027, 2, 20)) == ()


def test_extra_working_day_borrows_the_configured_weekday_hours() -> None:
    data = with_changes(week={"mon": ["09:00-18:00"], "fri": ["10:00-16:00"]}, extra_working_day_hours="fri")

    assert calendar_from_dict(data).local_hours(date(2027, 1, 9)) == ((600, 960),)


def test_extra_working_day_on_a_weekday_keeps_its_own_hours() -> None:
    data = with_changes(
        week={"mon": ["09:00-18:00"], "tue": ["10:00-12:00"]}, extra_working_days=["2027-01-05"]
    )

    assert calendar_from_dict(data).local_hours(date(2027, 1, 5)) == ((600, 720),)


def test_day_spans_are_utc_and_keep_wall_clock_hours_on_a_dst_change() -> None:
    calendar = calendar_from_dict(
        {"timezone": "Europe/Berlin", "week": {"sun": ["01:00-04:00", "09:00-18:00"]}}
    )

    spans = calendar.day_spans(date(2027, 3, 28))

    assert spans == (
        (datetime(2027, 3, 28, 0, 0, tzinfo=UTC), datetime(2027, 3, 28, 2, 0, tzinfo=UTC)),
        (datetime(2027, 3, 28, 7, 0, tzinfo=UTC), datetime(2027, 3, 28, 16, 0, tzinfo=UTC)),
    )


def test_calendar_spec_round_trips_through_json_for_the_api() -> None:
    spec = msgspec.convert(MOSCOW, CalendarSpec)

    again = msgspec.json.decode(msgspec.json.encode(spec), type=CalendarSpec)

    assert again == spec
    assert calendar_from_spec(again).holidays == frozenset({date(2027, 1, 7)})
