"""Properties of business-time arithmetic that must hold for any start, duration, pauses and calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from sla.business_time import (
    Pause,
    add_business_minutes,
    business_minutes_between,
    is_working_time,
)
from sla.calendar import BusinessCalendar, calendar_from_dict

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
EVERY_DAY = (*WEEKDAYS, "sat", "sun")
CALENDARS: dict[str, BusinessCalendar] = {
    "moscow office with lunch, holidays and a working Saturday": calendar_from_dict(
        {
            "timezone": "Europe/Moscow",
            "week": {day: ["09:00-13:00", "14:00-18:00"] for day in WEEKDAYS},
            "holidays": ["2027-01-07", "2027-06-15"],
            "holiday_country": "RU",
            "extra_working_days": ["2027-01-09"],
        }
    ),
    "bavarian office": calendar_from_dict(
        {
            "timezone": "Europe/Berlin",
            "week": {day: ["08:30-12:00", "12:45-17:15"] for day in WEEKDAYS},
            "holiday_country": "DE",
            "holiday_subdivision": "BY",
        }
    ),
    "new york office": calendar_from_dict(
        {
            "timezone": "America/New_York",
            "week": {day: ["09:00-17:00"] for day in WEEKDAYS},
            "holiday_country": "US",
        }
    ),
    # Night shifts that touch the DST changes in Berlin (01:00-04:00 on a Sunday).
    "berlin night and day": calendar_from_dict(
        {"timezone": "Europe/Berlin", "week": {day: ["01:00-04:00", "09:00-18:00"] for day in EVERY_DAY}}
    ),
    "berlin 24/7": calendar_from_dict({"timezone": "Europe/Berlin", "24/7": True}),
}
# Round-the-clock hours with one holiday far away: the general path, which must equal elapsed time.
ROUND_THE_CLOCK_SLOW_PATH = calendar_from_dict(
    {
        "timezone": "America/New_York",
        "week": {day: ["00:00-24:00"] for day in EVERY_DAY},
        "holidays": ["2099-01-01"],
    }
)

calendars = st.sampled_from(sorted(CALENDARS)).map(CALENDARS.__getitem__)
# 2026-2028 covers the DST changes of 2027 and both sides of a year boundary, with whole seconds so that
# minutes measured back are exact floats.
instants = st.datetimes(
    min_value=datetime(2026, 12, 1),  # noqa: DTZ001 (hypothesis wants naive bounds with timezones=)
    max_value=datetime(2028, 1, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
).map(lambda instant: instant.replace(microsecond=0))
minutes = st.integers(min_value=0, max_value=15 * 8 * 60)


@st.composite
def pauses_near(draw: st.DrawFn, start: datetime, open_allowed: bool = False) -> list[Pause]:
    count = draw(st.integers(min_value=0, max_value=3))
    pauses: list[Pause] = []
    for _ in range(count):
        begin = start + timedelta(minutes=draw(st.integers(min_value=-2 * 1440, max_value=10 * 1440)))
        length = timedelta(minutes=draw(st.integers(min_value=0, max_value=3 * 1440)))
        pauses.append((begin, begin + length))
    if open_allowed and draw(st.booleans()):
        pauses.append((start + timedelta(minutes=draw(st.integers(min_value=0, max_value=20 * 1440))), None))
    return pauses


def clock_runs(calendar: BusinessCalendar, instant: datetime, pauses: list[Pause]) -> bool:
    paused = any(begin <= instant and (end is None or instant < end) for begin, end in pauses)
    return is_working_time(calendar, instant) and not paused


@settings(max_examples=150, deadline=None)
@given(calendar=calendars, start=instants, amount=minutes, data=st.data())
def test_adding_then_measuring_back_returns_the_same_minutes(
    calendar: BusinessCalendar, start: datetime, amount: int, data: st.DataObject
) -> None:
    pauses = data.draw(pauses_near(start))

    due = add_business_minutes(calendar, start, amount, pauses)

    assert due is not None
    assert due.tzinfo is UTC
    assert business_minutes_between(calendar, start, due, pauses) == amount


@settings(max_examples=150, deadline=None)
@given(calendar=calendars, start=instants, smaller=minutes, larger=minutes, data=st.data())
def test_deadlines_never_decrease_as_minutes_grow(
    calendar: BusinessCalendar, start: datetime, smaller: int, larger: int, data: st.DataObject
) -> None:
    smaller, larger = sorted((smaller, larger))
    pauses = data.draw(pauses_near(start, open_allowed=True))

    early = add_business_minutes(calendar, start, smaller, pauses)
    late = add_business_minutes(calendar, start, larger, pauses)

    if early is None:  # stopped by an open pause: more minutes cannot get further
        assert late is None
    elif late is not None:
        assert start <= early <= late


@settings(max_examples=150, deadline=None)
@given(calendar=calendars, start=instants, amount=minutes, data=st.data())
def test_deadline_falls_in_working_time_unless_exactly_at_an_interval_end(
    calendar: BusinessCalendar, start: datetime, amount: int, data: st.DataObject
) -> None:
    pauses = data.draw(pauses_near(start, open_allowed=True))

    due = add_business_minutes(calendar, start, amount, pauses)

    if due is None:
        return
    if amount == 0:
        assert clock_runs(calendar, due, pauses)
    else:
        # The clock ran up to the deadline; the deadline itself is running time or the end of a stretch.
        assert clock_runs(calendar, due - timedelta(microseconds=1), pauses)


@settings(max_examples=100, deadline=None)
@given(calendar=calendars, start=instants, first=minutes, second=st.integers(min_value=1, max_value=3000))
def test_adding_in_two_steps_equals_adding_at_once(
    calendar: BusinessCalendar, start: datetime, first: int, second: int
) -> None:
    halfway = add_business_minutes(calendar, start, first)
    assert halfway is not None

    assert add_business_minutes(calendar, halfway, second) == add_business_minutes(
        calendar, start, first + second
    )


@settings(max_examples=100, deadline=None)
@given(start=instants, amount=st.integers(min_value=0, max_value=60 * 24 * 60))
def test_round_the_clock_hours_equal_wall_clock_elapsed_time(start: datetime, amount: int) -> None:
    expected = start + timedelta(minutes=amount)

    assert add_business_minutes(ROUND_THE_CLOCK_SLOW_PATH, start, amount) == expected
    assert add_business_minutes(CALENDARS["berlin 24/7"], start, amount) == expected
    assert business_minutes_between(ROUND_THE_CLOCK_SLOW_PATH, start, expected) == amount


@settings(max_examples=100, deadline=None)
@given(calendar=calendars, start=instants, end=instants, data=st.data())
def test_pauses_never_add_business_time(
    calendar: BusinessCalendar, start: datetime, end: datetime, data: st.DataObject
) -> None:
    start, end = sorted((start, end))
    end = min(end, start + timedelta(days=60))
    pauses = data.draw(pauses_near(start, open_allowed=True))

    with_pauses = business_minutes_between(calendar, start, end, pauses)

    assert 0 <= with_pauses <= business_minutes_between(calendar, start, end)
