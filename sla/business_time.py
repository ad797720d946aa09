"""Business-time arithmetic over a ``BusinessCalendar``: deadlines, elapsed business time, next working instant.

Conventions, shared by every function here:

- Instants must be timezone-aware (``InvalidInput`` otherwise); results are aware UTC.
- Working intervals are half-open ``[start, end)``: 18:00 is not working time on a 09:00-18:00 day.
- Resolution is the microsecond (plain ``timedelta`` arithmetic, no rounding); minutes may be fractional.
  ``business_minutes_between`` returns float minutes, exact for whole seconds.
- A clock that starts outside working time starts at the next working instant.
- A deadline reached exactly at the end of a working interval is that end (Friday 18:00, not Monday 09:00).
- Zero minutes means "the next working instant": ``start`` itself if it is working and not paused.
- Pauses are ``(start, end)`` pairs in which the clock does not run; they may overlap and come in any order.
  ``end=None`` stops the clock from ``start`` on: a deadline not reached before it is ``None``, and elapsed
  time stops growing there.
- An always-open (24/7) calendar gives plain elapsed time, whatever the time zone and DST.
- The work is proportional to the number of working intervals crossed, never to the minutes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from helpdesk.core.errors import InvalidInput
from sla.calendar import BusinessCalendar, Span

Pause = tuple[datetime, datetime | None]
# Ten years of round-the-clock minutes: far beyond any SLA target, and far from datetime's limits.
MAX_MINUTES = 10 * 366 * 24 * 60
_MINUTE = timedelta(minutes=1)


def add_business_minutes(
    calendar: BusinessCalendar, start: datetime, minutes: float, pauses: Iterable[Pause] = ()
) -> datetime | None:
    """The instant at which ``minutes`` of business time have run from ``start``, in UTC.

    Returns ``None`` only when an open pause stops the clock first. Raises ``InvalidInput`` for a naive
    instant, negative or absurdly large ``minutes``, or a pause that ends before it starts.
    """
    if not 0 <= minutes <= MAX_MINUTES:
        raise InvalidInput(f"minutes: must be between 0 and {MAX_MINUTES}, got {minutes}", field="minutes")
    return add_business_time(calendar, start, timedelta(minutes=minutes), pauses)


def add_business_time(
    calendar: BusinessCalendar, start: datetime, duration: timedelta, pauses: Iterable[Pause] = ()
) -> datetime | None:
    """Like ``add_business_minutes`` with a ``timedelta``; same guarantees and errors."""
    start = as_utc(start, "start")
    if duration < timedelta(0):
        raise InvalidInput("minutes: must not be negative", field="minutes")
    remaining = duration
    for segment_start, segment_end in free_spans(calendar, start, merge_pauses(pauses)):
        length = segment_end - segment_start
        # "<=" makes a deadline that lands on an interval's end that end, and zero the segment's start.
        if remaining <= length:
            return segment_start + remaining
        remaining -= length
    return None


def business_time_between(
    calendar: BusinessCalendar, start: datetime, end: datetime, pauses: Iterable[Pause] = ()
) -> timedelta:
    """Business time from ``start`` to ``end`` outside ``pauses``; negative when ``end`` is before ``start``.

    Raises ``InvalidInput`` for a naive instant or a pause that ends before it starts.
    """
    start, end = as_utc(start, "start"), as_utc(end, "end")
    if end < start:
        return -business_time_between(calendar, end, start, pauses)
    total = timedelta(0)
    for segment_start, segment_end in free_spans(calendar, start, merge_pauses(pauses)):
        if segment_start >= end:
            break
        total += min(segment_end, end) - segment_start
        if segment_end >= end:
            break
    return total


def business_minutes_between(
    calendar: BusinessCalendar, start: datetime, end: datetime, pauses: Iterable[Pause] = ()
) -> float:
    """``business_time_between`` in minutes (float; exact for whole seconds). Same errors."""
    return business_time_between(calendar, start, end, pauses) / _MINUTE


def next_working_instant(calendar: BusinessCalendar, instant: datetime) -> datetime:
    """The first working instant at or after ``instant``, in UTC (``instant`` itself if it is working).

    Used to hold notifications until business hours. Raises ``InvalidInput`` for a naive instant.
    """
    start, _ = next(calendar.spans_from(as_utc(instant, "instant")))
    return start


def is_working_time(calendar: BusinessCalendar, instant: datetime) -> bool:
    """True if the clock runs at ``instant`` (interval ends are not working time)."""
    instant = as_utc(instant, "instant")
    return next_working_instant(calendar, instant) == instant


def merge_pauses(pauses: Iterable[Pause]) -> list[Pause]:
    """Sorted, disjoint pauses in UTC; overlapping or touching ones are joined, empty ones dropped.

    An open pause swallows every pause after its start. Raises ``InvalidInput`` for a naive instant or a
    pause that ends before it starts.
    """
    checked: list[tuple[datetime, datetime | None]] = []
    for index, (pause_start, pause_end) in enumerate(pauses):
        begin = as_utc(pause_start, f"pauses[{index}].start")
        finish = None if pause_end is None else as_utc(pause_end, f"pauses[{index}].end")
        if finish is not None and finish < begin:
            raise InvalidInput(f"pauses[{index}]: ends before it starts", field=f"pauses[{index}]")
        if finish != begin:
            checked.append((begin, finish))
    checked.sort(key=lambda pause: pause[0])
    merged: list[Pause] = []
    for begin, finish in checked:
        if merged:
            last_begin, last_end = merged[-1]
            if last_end is None:
                break
            if begin <= last_end:
                merged[-1] = (last_begin, None if finish is None else max(last_end, finish))
                continue
        merged.append((begin, finish))
    return merged


def free_spans(calendar: BusinessCalendar, start: datetime, pauses: list[Pause]) -> Iterator[Span]:
    """Working intervals from ``start`` with merged ``pauses`` cut out, in order.

    Ends at an open pause (or, for an always-open calendar, at ``FAR_FUTURE``). ``pauses`` must come from ``merge_pauses``.
    """
    index = 0
    spans = calendar.spans_from(start)
    pending: Span | None = None
    while True:
        span = pending if pending is not None else next(spans, None)
        if span is None:  # only an always-open calendar's single span runs out, at FAR_FUTURE
            return
        span_start, span_end = span
        pending = None
        while index < len(pauses) and (finish := pauses[index][1]) is not None and finish <= span_start:
            index += 1
        if index < len(pauses) and pauses[index][0] < span_end:
            pause_start, pause_end = pauses[index]
            index += 1
            if pause_start > span_start:
                yield (span_start, pause_start)
            if pause_end is None:
                return
            if pause_end < span_end:
                pending = (pause_end, span_end)
            else:
                # Jump over the whole pause instead of walking the days inside it.
                spans = calendar.spans_from(pause_end)
            continue
        yield (span_start, span_end)


def as_utc(value: datetime, field: str) -> datetime:
    """``value`` in UTC; raises ``InvalidInput`` naming ``field`` if it is naive."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(
            f"{field}: {value.isoformat()} has no UTC offset; an offset is required", field=field
        )
    return value.astimezone(UTC)
