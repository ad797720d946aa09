"""The compliance chart's buckets: consecutive periods covering the whole period asked for, exactly, never more
than MAX_BUCKETS: the reader's local days, then weeks from Monday, then calendar months, cut at both ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk.reports.dashboard import MAX_BUCKETS, Step, bucket_step, buckets
from sla.calendar import start_of_local_day

END = datetime(2027, 3, 2, 12, 0, 1, tzinfo=UTC)  # the dashboard's until: now plus a second
MOSCOW, KOLKATA = ZoneInfo("Europe/Moscow"), ZoneInfo("Asia/Kolkata")
# Zones with odd offsets, summer time (also at midnight: Santiago) and no summer time.
ZONES = [
    "UTC",
    "Europe/Moscow",
    "Europe/Berlin",
    "Asia/Kolkata",
    "America/Santiago",
    "America/St_Johns",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
]


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("days", "step", "count", "first_inner"),
    [
        (7, Step.DAY, 8, "2027-02-24T00:00:00"),  # Tuesday noon to Tuesday noon: 6 whole days between
        (15, Step.DAY, 16, "2027-02-16T00:00:00"),
        (30, Step.WEEK, 6, "2027-02-01T00:00:00"),  # a Monday
        (90, Step.WEEK, 14, "2026-12-07T00:00:00"),  # a Monday; was cut to the last 12 weeks
    ],
)
def test_days_and_weeks_are_whole_local_days_and_weeks_from_monday_cut_at_both_ends(
    days: int, step: Step, count: int, first_inner: str
) -> None:
    since = END - timedelta(days=days)
    periods = buckets(since, END)
    assert bucket_step(since, END) is step
    assert len(periods) == count
    assert periods[0] == (since, _at(first_inner))
    length = timedelta(days=1 if step is Step.DAY else 7)
    assert all(end - start == length for start, end in periods[1:-1])
    assert periods[-1] == (_at("2027-03-02T00:00:00" if step is Step.DAY else "2027-03-01T00:00:00"), END)


def test_days_begin_at_midnight_in_the_readers_zone() -> None:
    periods = buckets(END - timedelta(days=7), END, MOSCOW)
    assert [start.astimezone(MOSCOW).strftime("%m-%d %H:%M") for start, _ in periods[1:3]] == [
        "02-24 00:00",
        "02-25 00:00",
    ]
    assert periods[-1] == (_at("2027-03-01T21:00:00"), END)


def test_a_year_is_thirteen_calendar_months_of_the_zone_cut_at_both_ends() -> None:
    since = END - timedelta(days=365)
    periods = buckets(since, END, MOSCOW)
    assert len(periods) == 13
    assert periods[0] == (since, _at("2026-03-31T21:00:00"))  # April begins at 00:00 in Moscow
    assert periods[1] == (_at("2026-03-31T21:00:00"), _at("2026-04-30T21:00:00"))
    assert periods[-1] == (_at("2027-02-28T21:00:00"), END)
    assert [start.astimezone(MOSCOW).strftime("%Y-%m-%d %H:%M") for start, _ in periods[1:4]] == [
        "2026-04-01 00:00",
        "2026-05-01 00:00",
        "2026-06-01 00:00",
    ]


def test_months_begin_off_the_hour_in_a_zone_half_an_hour_off_utc() -> None:
    periods = buckets(END - timedelta(days=365), END, KOLKATA)
    assert periods[-1] == (_at("2027-02-28T18:30:00"), END)


def test_more_months_than_buckets_are_grouped_from_january() -> None:
    periods = buckets(_at("2022-05-17T08:00:00"), END)  # 58 months: half-years
    assert len(periods) <= MAX_BUCKETS
    assert [start.strftime("%Y-%m") for start, _ in periods[:3]] == ["2022-05", "2022-07", "2023-01"]
    assert periods[-1] == (_at("2027-01-01T00:00:00"), END)


def test_an_empty_period_has_no_buckets() -> None:
    assert buckets(END, END) == []
    assert buckets(END, END - timedelta(days=1)) == []


@settings(max_examples=300, deadline=None)
@given(
    since=st.datetimes(
        min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - naive bounds: hypothesis adds the zone
        max_value=datetime(2040, 1, 1),  # noqa: DTZ001
        timezones=st.just(UTC),
    ),
    length=st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=1200)),
    zone=st.sampled_from(ZONES),
)
def test_buckets_cover_the_period_exactly_one_after_another_and_are_few(
    since: datetime, length: timedelta, zone: str
) -> None:
    until = since + length
    periods = buckets(since, until, ZoneInfo(zone))
    assert 1 <= len(periods) <= MAX_BUCKETS
    assert periods[0][0] == since
    assert periods[-1][1] == until
    assert all(start < end for start, end in periods)
    assert all(a[1] == b[0] for a, b in pairwise(periods))
    step = bucket_step(since, until)
    for start, _ in periods[1:]:  # each inner edge is the first instant of a local day, Monday or month
        local = start.astimezone(ZoneInfo(zone))
        assert start == start_of_local_day(local.date(), ZoneInfo(zone))
        if step is Step.WEEK:
            assert local.weekday() == 0
        if step is Step.MONTH:
            assert local.day == 1
