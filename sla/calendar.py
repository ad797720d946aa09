"""Business calendars: a time zone, weekly working hours, holidays and extra working days.

``CalendarSpec`` is the accepted shape (JSON/API); ``calendar_from_spec`` validates it into a
``BusinessCalendar`` that the arithmetic in ``sla.business_time`` works with. Example::

    {"timezone": "Europe/Moscow",
     "week": {"mon": ["09:00-13:00", "14:00-18:00"], "tue": [...], ..., "sun": []},
     "holidays": ["2027-01-07"], "holiday_country": "RU", "holiday_subdivision": null,
     "extra_working_days": ["2027-01-09"], "extra_working_day_hours": "mon"}

``{"24/7": true}`` is a calendar that never closes (holidays are ignored).

Working hours are local wall-clock times. On a DST-change day a 09:00-18:00 interval keeps its wall-clock
ends, so it lasts 9 hours of real time unless the change happens inside it (then 8 or 10). A wall-clock time
that does not exist (spring forward) is read with the offset in force before the change, and an ambiguous one
(fall back) as its first occurrence, which is what ``zoneinfo`` does with ``fold=0``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_package
import msgspec

from helpdesk.core.errors import InvalidInput

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
MINUTES_PER_DAY = 24 * 60
# Beyond every instant the arithmetic can reach; marks the open end of an always-open calendar's interval.
FAR_FUTURE = datetime.max.replace(tzinfo=UTC)
# A calendar without a single working minute in this many consecutive days is treated as broken.
_MAX_EMPTY_DAYS = 2 * 366
_DAY_CACHE_SIZE = 4096

Interval = Annotated[
    str,
    msgspec.Meta(
        description="Local wall-clock hours HH:MM-HH:MM; 24:00 may end a day", examples=["09:00-13:00"]
    ),
]
_TIME = re.compile(r"(\d{2}):(\d{2})")


class WeekHours(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """Working intervals per weekday; a missing or empty weekday is closed."""

    mon: tuple[Interval, ...] = ()
    tue: tuple[Interval, ...] = ()
    wed: tuple[Interval, ...] = ()
    thu: tuple[Interval, ...] = ()
    fri: tuple[Interval, ...] = ()
    sat: tuple[Interval, ...] = ()
    sun: tuple[Interval, ...] = ()


class CalendarSpec(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """A business calendar as accepted from users; reusable as an API request schema."""

    timezone: str = "UTC"
    week: WeekHours = msgspec.field(default_factory=WeekHours)
    holidays: tuple[date, ...] = ()
    holiday_country: str | None = None
    holiday_subdivision: str | None = None
    # Weekend days a country officially turns into working days (Russia's moved Saturdays) count as
    # extra working days unless this is false.
    holiday_country_workdays: bool = True
    extra_working_days: tuple[date, ...] = ()
    # An extra working day keeps its own weekday's hours when it has some (a holiday made working again);
    # a closed weekday (the usual Saturday) borrows the hours of this weekday instead.
    extra_working_day_hours: Weekday = "mon"
    always_open: bool = msgspec.field(default=False, name="24/7")


Span = tuple[datetime, datetime]


class BusinessCalendar:
    """A validated calendar. Immutable; holds a small cache of per-day working intervals."""

    def __init__(
        self,
        *,
        zone: ZoneInfo,
        week: tuple[tuple[tuple[int, int], ...], ...],
        holidays: frozenset[date],
        country: str | None,
        subdivision: str | None,
        country_workdays: bool,
        extra_working_days: frozenset[date],
        extra_hours_weekday: int,
        always_open: bool,
    ) -> None:
        self.zone = zone
        self.week = week
        self.holidays = holidays
        self.country = country
        self.subdivision = subdivision
        self.country_workdays = country_workdays
        self.extra_working_days = extra_working_days
        self.extra_hours_weekday = extra_hours_weekday
        self.always_open = always_open
        self._day_cache: dict[date, tuple[Span, ...]] = {}

    def __repr__(self) -> str:
        return f"BusinessCalendar(zone={self.zone.key!r}, always_open={self.always_open})"

    def is_holiday(self, day: date) -> bool:
        """True if ``day`` is an explicit or a country holiday (an extra working day still counts as one)."""
        if day in self.holidays:
            return True
        return self.country is not None and day in _country_days(self.country, self.subdivision, day.year)[0]

    def _is_extra_working_day(self, day: date) -> bool:
        if day in self.extra_working_days:
            return True
        if self.country is None or not self.country_workdays:
            return False
        return day in _country_days(self.country, self.subdivision, day.year)[1]

    def local_hours(self, day: date) -> tuple[tuple[int, int], ...]:
        """The working intervals of local ``day`` as (start, end) minutes after local midnight."""
        own = self.week[day.weekday()]
        if self._is_extra_working_day(day):
            return own or self.week[self.extra_hours_weekday]
        return () if self.is_holiday(day) else own

    def day_spans(self, day: date) -> tuple[Span, ...]:
        """The working intervals of local ``day`` as sorted, disjoint, non-empty UTC spans."""
        cached = self._day_cache.get(day)
        if cached is not None:
            return cached
        midnight = datetime.combine(day, time(), tzinfo=self.zone)
        spans: list[Span] = []
        for start_minute, end_minute in self.local_hours(day):
            # Aware + timedelta is wall-clock arithmetic in zoneinfo, so "24:00" is the next local midnight.
            start = (midnight + timedelta(minutes=start_minute)).astimezone(UTC)
            end = (midnight + timedelta(minutes=end_minute)).astimezone(UTC)
            if end <= start:  # swallowed by a spring-forward gap
                continue
            if spans and start <= spans[-1][1]:
                spans[-1] = (spans[-1][0], max(spans[-1][1], end))
            else:
                spans.append((start, end))
        result = tuple(spans)
        if len(self._day_cache) >= _DAY_CACHE_SIZE:
            self._day_cache.clear()
        self._day_cache[day] = result
        return result

    def spans_from(self, instant: datetime) -> Iterator[Span]:
        """Working intervals in UTC, in order, the first clipped to start at ``instant``; never ends.

        An always-open calendar yields a single interval ending at ``FAR_FUTURE``. Raises ``InvalidInput``
        if two years pass without a working minute (only a calendar that bypassed validation can do that).
        """
        instant = instant.astimezone(UTC)
        if self.always_open:
            yield (instant, FAR_FUTURE)
            return
        # Start a day early: a local day's spans may begin before the UTC date of ``instant``.
        day = instant.astimezone(self.zone).date() - timedelta(days=1)
        empty_days = 0
        while True:
            spans = self.day_spans(day)
            empty_days = 0 if spans else empty_days + 1
            if empty_days > _MAX_EMPTY_DAYS:
                raise InvalidInput("the calendar has no working time for two years", field="week")
            for start, end in spans:
                if end > instant:
                    yield (max(start, instant), end)
            day += timedelta(days=1)


def start_of_local_day(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of ``day`` in ``zone``, in UTC: local midnight, or the end of the gap where the clocks
    jump forward at midnight (a nonexistent 00:00 read with the offset before the change lands there)."""
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


@lru_cache(maxsize=512)
def _country_days(
    country: str, subdivision: str | None, year: int
) -> tuple[frozenset[date], frozenset[date]]:
    """(holidays, weekend working days) of one country and year; cached because building them is slow."""
    table = holidays_package.country_holidays(country, subdiv=subdivision, years=year)
    return frozenset(table.keys()), frozenset(getattr(table, "weekend_workdays", ()))


def calendar_from_dict(data: Any) -> BusinessCalendar:
    """Validate decoded JSON into a calendar.

    Raises ``InvalidInput`` naming the offending field (``week.mon[1]``, ``holidays[0]``, ``timezone`` ...).
    """
    try:
        spec = msgspec.convert(data, CalendarSpec)
    except msgspec.ValidationError as exc:
        raise _invalid_from_msgspec(exc) from exc
    return calendar_from_spec(spec)


def calendar_from_spec(spec: CalendarSpec) -> BusinessCalendar:
    """Check what the schema cannot (times, overlaps, zones, countries) and build the calendar.

    Raises ``InvalidInput`` with ``field`` set to the path of the first problem found.
    """
    zone = _zone(spec.timezone)
    week = tuple(_day_hours(getattr(spec.week, name), f"week.{name}") for name in WEEKDAYS)
    is_all_day = all(hours == ((0, MINUTES_PER_DAY),) for hours in week)
    has_closures = bool(spec.holidays or spec.holiday_country)
    if not spec.always_open and not any(week):
        raise InvalidInput('week: no working hours on any day; give some, or set "24/7": true', field="week")
    if spec.holiday_subdivision is not None and spec.holiday_country is None:
        raise InvalidInput("holiday_subdivision: needs holiday_country as well", field="holiday_subdivision")
    if spec.holiday_country is not None:
        _check_country(spec.holiday_country, spec.holiday_subdivision)
    both = sorted(set(spec.holidays) & set(spec.extra_working_days))
    if both:
        index = spec.extra_working_days.index(both[0])
        raise InvalidInput(
            f"extra_working_days[{index}]: {both[0].isoformat()} is also listed in holidays",
            field=f"extra_working_days[{index}]",
        )
    return BusinessCalendar(
        zone=zone,
        week=week,
        holidays=frozenset(spec.holidays),
        country=spec.holiday_country,
        subdivision=spec.holiday_subdivision,
        country_workdays=spec.holiday_country_workdays,
        extra_working_days=frozenset(spec.extra_working_days),
        extra_hours_weekday=WEEKDAYS.index(spec.extra_working_day_hours),
        # Round-the-clock hours with nothing closing them are the same thing as 24/7; say so once here,
        # so the arithmetic takes the fast path.
        always_open=spec.always_open or (is_all_day and not has_closures),
    )


def _zone(key: str) -> ZoneInfo:
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(
            f"timezone: unknown time zone {key!r}; use an IANA name such as Europe/Berlin", field="timezone"
        ) from exc


def _check_country(country: str, subdivision: str | None) -> None:
    try:
        holidays_package.country_holidays(country)
    except NotImplementedError as exc:
        raise InvalidInput(
            f"holiday_country: no holiday data for {country!r}; use an ISO 3166-1 alpha-2 code such as DE",
            field="holiday_country",
        ) from exc
    if subdivision is None:
        return
    try:
        holidays_package.country_holidays(country, subdiv=subdivision)
    except NotImplementedError as exc:
        raise InvalidInput(
            f"holiday_subdivision: {country} has no subdivision {subdivision!r}", field="holiday_subdivision"
        ) from exc


def _day_hours(intervals: tuple[str, ...], field: str) -> tuple[tuple[int, int], ...]:
    parsed: list[tuple[int, int, int]] = []
    for index, text in enumerate(intervals):
        start, end = _interval(text, f"{field}[{index}]")
        parsed.append((start, end, index))
    parsed.sort()
    merged: list[tuple[int, int]] = []
    for position, (start, end, index) in enumerate(parsed):
        if position and start < parsed[position - 1][1]:
            other = parsed[position - 1][2]
            raise InvalidInput(
                f"{field}[{index}]: interval {intervals[index]} overlaps {field}[{other}] {intervals[other]}",
                field=f"{field}[{index}]",
            )
        # Touching intervals (09:00-13:00, 13:00-18:00) are one working stretch.
        if merged and start == merged[-1][1]:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return tuple(merged)


def _interval(text: str, field: str) -> tuple[int, int]:
    parts = text.strip().split("-")
    if len(parts) != 2:
        raise InvalidInput(f"{field}: {text!r} is not an interval like 09:00-13:00", field=field)
    start, end = (_minute_of_day(part.strip(), text, field) for part in parts)
    if start == MINUTES_PER_DAY:
        raise InvalidInput(f"{field}: interval {text} starts at 24:00; a day ends there", field=field)
    if end < start:
        raise InvalidInput(f"{field}: interval {text} ends before it starts", field=field)
    if end == start:
        raise InvalidInput(f"{field}: interval {text} is empty", field=field)
    return start, end


def _minute_of_day(part: str, text: str, field: str) -> int:
    match = _TIME.fullmatch(part)
    if match is None:
        raise InvalidInput(f"{field}: {text!r} is not an interval like 09:00-13:00", field=field)
    hours, minutes = int(match.group(1)), int(match.group(2))
    value = hours * 60 + minutes
    if minutes > 59 or value > MINUTES_PER_DAY:
        raise InvalidInput(f"{field}: {part} in {text} is not a time of day (00:00 to 24:00)", field=field)
    return value


_AT_PATH = re.compile(r" - at `\$\.?([^`]*)`$")
_UNKNOWN_FIELD = re.compile(r"unknown field `([^`]*)`")


def _invalid_from_msgspec(exc: msgspec.ValidationError) -> InvalidInput:
    message = str(exc)
    match = _AT_PATH.search(message)
    path = match.group(1) if match else ""
    message = _AT_PATH.sub("", message)
    if message.startswith("Invalid RFC3339 encoded date"):
        message = "not a date like 2027-01-07"
    unknown = _UNKNOWN_FIELD.search(message)
    if unknown:
        path = f"{path}.{unknown.group(1)}" if path else unknown.group(1)
        known = ", ".join(WEEKDAYS) if path.startswith("week.") else ", ".join(_SPEC_FIELDS)
        message = f"unknown field; expected one of {known}"
    if not path:
        return InvalidInput(f"calendar: {message}", field=None)
    return InvalidInput(f"{path}: {message}", field=path)


_SPEC_FIELDS = tuple(field.encode_name for field in msgspec.structs.fields(CalendarSpec))

ALWAYS_OPEN = calendar_from_spec(CalendarSpec(always_open=True))
