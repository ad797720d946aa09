"""Business-time arithmetic, case by case: hours, lunch, weekends, holidays, pauses, DST, 24/7."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from helpdesk.core.errors import InvalidInput
from sla.business_time import (
    Pause,
    add_business_minutes,
    business_minutes_between,
    is_working_time,
    merge_pauses,
    next_working_instant,
)
from sla.calendar import BusinessCalendar, Span, calendar_from_dict

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")

# Bavaria, 09:00-12:00 and 13:00-17:00 (7 hours), an explicit holiday on Tuesday 2027-06-15 and Saturday
# 2027-06-19 made working.
OFFICE = calendar_from_dict(
    {
        "timezone": "Europe/Berlin",
        "week": {day: ["09:00-12:00", "13:00-17:00"] for day in WEEKDAYS},
        "holiday_country": "DE",
        "holiday_subdivision": "BY",
        "holidays": ["2027-06-15"],
        "extra_working_days": ["2027-06-19"],
    }
)
BERLIN_EVERY_DAY = calendar_from_dict(
    {"timezone": "Europe/Berlin", "week": {day: ["09:00-18:00"] for day in EVERY_DAY}}
)
NEW_YORK_OFFICE = calendar_from_dict(
    {
        "timezone": "America/New_York",
        "week": {day: ["09:00-17:00"] for day in WEEKDAYS},
        "holiday_country": "US",
    }
)
BERLIN_24_7 = calendar_from_dict({"timezone": "Europe/Berlin", "24/7": True})


def berlin(day: str, clock: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=BERLIN)


def new_york(day: str, clock: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=NEW_YORK)


OFFICE_CASES = [
    pytest.param(berlin("2027-06-08", "10:00"), 60, berlin("2027-06-08", "11:00"), id="inside a working day"),
    pytest.param(berlin("2027-06-08", "07:30"), 30, berlin("2027-06-08", "09:30"), id="before hours"),
    pytest.param(berlin("2027-06-08", "17:30"), 30, berlin("2027-06-09", "09:30"), id="after hours"),
    pytest.param(
        berlin("2027-06-08", "11:30"), 60, berlin("2027-06-08", "13:30"), id="across the lunch break"
    ),
    pytest.param(
        berlin("2027-06-08", "12:15"), 15, berlin("2027-06-08", "13:15"), id="start in the lunch break"
    ),
    pytest.param(berlin("2027-06-11", "16:00"), 120, berlin("2027-06-14", "10:00"), id="across a weekend"),
    pytest.param(
        berlin("2027-03-25", "16:30"),
        60,
        berlin("2027-03-30", "09:30"),
        id="across Easter and the DST change",
    ),
    pytest.param(
        berlin("2027-06-14", "16:30"), 60, berlin("2027-06-16", "09:30"), id="across an explicit holiday"
    ),
    pytest.param(
        berlin("2027-06-18", "16:30"), 60, berlin("2027-06-19", "09:30"), id="into an extra working day"
    ),
    pytest.param(berlin("2027-06-08", "16:00"), 60, berlin("2027-06-08", "17:00"), id="exactly at day's end"),
    pytest.param(berlin("2027-06-08", "10:00"), 0, berlin("2027-06-08", "10:00"), id="zero inside hours"),
    pytest.param(berlin("2027-06-08", "17:00"), 0, berlin("2027-06-09", "09:00"), id="zero at day's end"),
    pytest.param(
        berlin("2027-06-21", "09:00"), 10 * 420, berlin("2027-07-02", "17:00"), id="ten business days"
    ),
    pytest.param(berlin("2027-06-08", "10:00"), 0.5, berlin("2027-06-08", "10:00:30"), id="half a minute"),
]


@pytest.mark.parametrize(("start", "minutes", "due"), OFFICE_CASES)
def test_deadline_on_an_office_calendar(start: datetime, minutes: float, due: datetime) -> None:
    result = add_business_minutes(OFFICE, start, minutes)

    assert result == due
    assert result is not None
    assert result.tzinfo is UTC


@pytest.mark.parametrize(("start", "minutes", "due"), [case for case in OFFICE_CASES if case.values[1]])
def test_business_minutes_between_measures_the_deadline_back(
    start: datetime, minutes: float, due: datetime
) -> None:
    assert business_minutes_between(OFFICE, start, due) == minutes
    assert business_minutes_between(OFFICE, due, start) == -minutes


def test_deadline_started_friday_evening_falls_on_monday_morning() -> None:
    assert add_business_minutes(OFFICE, berlin("2027-06-11", "18:30"), 90) == berlin("2027-06-14", "10:30")


@pytest.mark.parametrize(
    ("start", "minutes", "pauses", "due"),
    [
        pytest.param(
            berlin("2027-06-08", "10:00"),
            30,
            [(berlin("2027-06-08", "09:30"), berlin("2027-06-08", "11:00"))],
            berlin("2027-06-08", "11:30"),
            id="start inside a pause",
        ),
        pytest.param(
            berlin("2027-06-08", "10:00"),
            60,
            [
                (berlin("2027-06-08", "10:45"), berlin("2027-06-08", "13:30")),
                (berlin("2027-06-08", "10:30"), berlin("2027-06-08", "11:00")),
            ],
            berlin("2027-06-08", "14:00"),
            id="overlapping pauses in any order",
        ),
        pytest.param(
            berlin("2027-06-08", "15:00"),
            120,
            [(berlin("2027-06-08", "16:00"), berlin("2027-06-09", "10:00"))],
            berlin("2027-06-09", "11:00"),
            id="pause across the night",
        ),
        pytest.param(
            berlin("2027-06-08", "10:00"),
            60,
            [(berlin("2027-06-01", "10:00"), berlin("2027-06-08", "09:00"))],
            berlin("2027-06-08", "11:00"),
            id="pause before the start",
        ),
        pytest.param(
            berlin("2027-06-08", "10:00"),
            30,
            [(berlin("2027-06-08", "10:30"), None)],
            berlin("2027-06-08", "10:30"),
            id="deadline reached as an open pause begins",
        ),
        pytest.param(
            berlin("2027-06-08", "10:00"), 60, [(berlin("2027-06-08", "10:30"), None)], None, id="open pause"
        ),
        pytest.param(
            berlin("2027-06-08", "10:00"),
            0,
            [(berlin("2027-06-08", "09:00"), berlin("2027-06-08", "10:15"))],
            berlin("2027-06-08", "10:15"),
            id="zero minutes inside a pause",
        ),
        pytest.param(
            berlin("2027-06-08", "10:00"),
            60,
            [(berlin("2027-06-08", "10:30"), berlin("2027-06-08", "10:30"))],
            berlin("2027-06-08", "11:00"),
            id="empty pause",
        ),
    ],
)
def test_deadline_with_pauses(
    start: datetime, minutes: float, pauses: list[Pause], due: datetime | None
) -> None:
    assert add_business_minutes(OFFICE, start, minutes, pauses) == due


def test_open_pause_stops_the_elapsed_time_from_its_start() -> None:
    pauses: list[Pause] = [(berlin("2027-06-08", "10:30"), None)]

    assert (
        business_minutes_between(OFFICE, berlin("2027-06-08", "09:00"), berlin("2027-06-10", "12:00"), pauses)
        == 90
    )


@pytest.mark.parametrize(
    ("calendar", "start", "minutes", "due"),
    [
        pytest.param(
            BERLIN_EVERY_DAY,
            berlin("2027-03-27", "17:00"),
            120,
            datetime(2027, 3, 28, 8, 0, tzinfo=UTC),
            id="Berlin spring forward: 10:00 CEST",
        ),
        pytest.param(
            BERLIN_EVERY_DAY,
            berlin("2027-10-30", "17:00"),
            120,
            datetime(2027, 10, 31, 9, 0, tzinfo=UTC),
            id="Berlin fall back: 10:00 CET",
        ),
        pytest.param(
            NEW_YORK_OFFICE,
            new_york("2027-03-12", "16:00"),
            120,
            datetime(2027, 3, 15, 14, 0, tzinfo=UTC),
            id="New York spring forward over a weekend",
        ),
        pytest.param(
            NEW_YORK_OFFICE,
            new_york("2027-11-05", "16:00"),
            120,
            datetime(2027, 11, 8, 15, 0, tzinfo=UTC),
            id="New York fall back over a weekend",
        ),
        pytest.param(
            BERLIN_24_7,
            berlin("2027-03-28", "01:00"),
            180,
            berlin("2027-03-28", "05:00"),
            id="24/7 over spring forward is wall-clock elapsed time",
        ),
        pytest.param(
            BERLIN_24_7,
            berlin("2027-10-31", "01:00"),
            180,
            berlin("2027-10-31", "03:00"),
            id="24/7 over fall back is wall-clock elapsed time",
        ),
    ],
)
def test_deadline_across_a_dst_change(
    calendar: BusinessCalendar, start: datetime, minutes: int, due: datetime
) -> None:
    assert add_business_minutes(calendar, start, minutes) == due


@pytest.mark.parametrize(
    ("zone", "day", "hours", "minutes"),
    [
        ("Europe/Berlin", "2027-03-28", "09:00-18:00", 540),
        ("Europe/Berlin", "2027-03-28", "00:00-24:00", 23 * 60),
        ("Europe/Berlin", "2027-03-28", "01:00-04:00", 120),
        ("Europe/Berlin", "2027-10-31", "00:00-24:00", 25 * 60),
        ("Europe/Berlin", "2027-10-31", "01:00-04:00", 240),
        ("America/New_York", "2027-03-14", "00:00-24:00", 23 * 60),
        ("America/New_York", "2027-03-14", "01:00-04:00", 120),
        ("America/New_York", "2027-11-07", "00:00-24:00", 25 * 60),
        ("America/New_York", "2027-11-07", "09:00-17:00", 480),
    ],
)
def test_working_hours_on_a_dst_change_day_are_wall_clock_hours(
    zone: str, day: str, hours: str, minutes: int
) -> None:
    calendar = calendar_from_dict({"timezone": zone, "week": {"sun": [hours]}})
    start = datetime.fromisoformat(f"{day}T00:00").replace(tzinfo=ZoneInfo(zone))

    assert business_minutes_between(calendar, start, start + timedelta(days=2)) == minutes


@pytest.mark.parametrize("minutes", [0, 1, 59, 60 * 24 * 3 + 7, 60 * 24 * 400])
def test_always_open_calendar_equals_elapsed_time(minutes: int) -> None:
    start = datetime(2027, 3, 27, 22, 13, 5, tzinfo=UTC)

    assert add_business_minutes(BERLIN_24_7, start, minutes) == start + timedelta(minutes=minutes)
    assert business_minutes_between(BERLIN_24_7, start, start + timedelta(minutes=minutes)) == minutes


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (berlin("2027-06-08", "10:00"), berlin("2027-06-08", "10:00")),
        (berlin("2027-06-08", "12:00"), berlin("2027-06-08", "13:00")),
        (berlin("2027-06-11", "17:00"), berlin("2027-06-14", "09:00")),
        (berlin("2027-05-26", "19:00"), berlin("2027-05-28", "09:00")),  # Corpus Christi in Bavaria
    ],
)
def test_next_working_instant(instant: datetime, expected: datetime) -> None:
    assert next_working_instant(OFFICE, instant) == expected
    assert is_working_time(OFFICE, expected)


@pytest.mark.parametrize(
    "call",
    [
        lambda: add_business_minutes(OFFICE, datetime(2027, 6, 8, 10, 0), 10),  # noqa: DTZ001
        lambda: business_minutes_between(OFFICE, berlin("2027-06-08", "10:00"), datetime(2027, 6, 9)),  # noqa: DTZ001
        lambda: next_working_instant(OFFICE, datetime(2027, 6, 8)),  # noqa: DTZ001
    ],
)
def test_naive_instants_are_refused_with_an_offset_hint(call: Callable[[], object]) -> None:
    with pytest.raises(InvalidInput, match="an offset is required"):
        call()


def test_negative_minutes_are_refused() -> None:
    with pytest.raises(InvalidInput) as raised:
        add_business_minutes(OFFICE, berlin("2027-06-08", "10:00"), -1)

    assert raised.value.field == "minutes"


def test_pause_that_ends_before_it_starts_is_refused_naming_it() -> None:
    pauses: list[Pause] = [
        (berlin("2027-06-08", "10:00"), berlin("2027-06-08", "11:00")),
        (berlin("2027-06-08", "12:00"), berlin("2027-06-08", "11:00")),
    ]

    with pytest.raises(InvalidInput) as raised:
        merge_pauses(pauses)

    assert raised.value.field == "pauses[1]"


def test_merge_pauses_joins_overlaps_and_lets_an_open_pause_swallow_the_rest() -> None:
    t = [datetime(2027, 6, 8, hour, tzinfo=UTC) for hour in range(12)]

    merged = merge_pauses(
        [(t[5], t[7]), (t[1], t[3]), (t[2], t[4]), (t[4], t[5]), (t[8], None), (t[9], t[10])]
    )

    assert merged == [(t[1], t[7]), (t[8], None)]


class CountingCalendar(BusinessCalendar):
    """A calendar that counts the local days it has to work out."""

    days_computed = 0

    def day_spans(self, day: date) -> tuple[Span, ...]:
        self.days_computed += 1
        return super().day_spans(day)


def test_ten_business_days_walk_days_not_minutes() -> None:
    base = calendar_from_dict(
        {"timezone": "Europe/Berlin", "week": {day: ["09:00-18:00"] for day in WEEKDAYS}}
    )
    calendar = CountingCalendar(
        zone=base.zone,
        week=base.week,
        holidays=base.holidays,
        country=base.country,
        subdivision=base.subdivision,
        country_workdays=base.country_workdays,
        extra_working_days=base.extra_working_days,
        extra_hours_weekday=base.extra_hours_weekday,
        always_open=base.always_open,
    )

    due = add_business_minutes(calendar, berlin("2027-06-07", "09:00"), 10 * 9 * 60)

    assert due == berlin("2027-06-18", "18:00")
    assert calendar.days_computed <= 16
