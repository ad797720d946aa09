"""A year of compliance in calendar months of the reader's zone counts every clock in the month it finished in,
though the months begin at local midnight, off the whole UTC days (and, in India, off the hours) the counters
keep: clocks a second either side of each month's start, in the minutes and hours around it, and at the ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from reportrows import insert_desk, insert_ticket
from sqlalchemy import insert

from helpdesk.reports.counts import fold_report_counts
from helpdesk.reports.dashboard import DashboardQueries, buckets
from helpdesk.reports.schemas import ReportFilters
from helpdesk.runtime import Runtime
from sla.models import TargetStateRow
from sla.targets import TargetState

pytestmark = pytest.mark.integration

UNTIL = datetime(2027, 3, 2, 13, 27, 42, tzinfo=UTC)
SINCE = UNTIL - timedelta(days=365)
# Around each month's start: a second before, the start itself, inside its first partial hour, an hour and a
# day later.
AROUND = (
    timedelta(seconds=-1),
    timedelta(0),
    timedelta(minutes=29, seconds=59),
    timedelta(hours=1),
    timedelta(days=1, hours=3),
)


async def _finished_clocks(runtime: Runtime, instants: list[datetime]) -> None:
    """A ticket per instant whose first-response clock finished then: met on time at even positions,
    breached and never met at odd ones."""
    desk = await insert_desk(runtime, SINCE, queues=0)
    async with runtime.sessions() as session, session.begin():
        for n, at in enumerate(instants):
            ticket_id = await insert_ticket(
                session, n, SINCE, status="open", priority="P3", customer_id=desk.customer
            )
            met = n % 2 == 0
            await session.execute(
                insert(TargetStateRow).values(
                    ticket_id=ticket_id,
                    target="first_response",
                    target_minutes=240,
                    clock_started_at=SINCE,
                    state=TargetState.MET if met else TargetState.BREACHED,
                    due_at=at,
                    met_at=at if met else None,
                    breached_at=None if met else at,
                    margin_minutes=0.0,
                )
            )


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "Europe/Moscow"])
async def test_a_year_in_local_months_counts_each_clock_in_the_month_it_finished(
    runtime: Runtime, zone: str
) -> None:
    periods = buckets(SINCE, UNTIL, ZoneInfo(zone))
    assert len(periods) == 13
    starts = [start for start, _ in periods[1:]]
    instants = [start + offset for start in starts for offset in AROUND if start + offset < UNTIL]
    instants += [SINCE, SINCE + timedelta(minutes=3), UNTIL - timedelta(seconds=1)]
    instants += [SINCE - timedelta(seconds=1), UNTIL]  # outside the period
    await _finished_clocks(runtime, instants)
    # By hand: the clocks met (at even positions) and finished in each bucket.
    met_in = [sum(start <= at < end for at in instants[::2]) for start, end in periods]
    finished_in = [sum(start <= at < end for at in instants) for start, end in periods]
    filters = ReportFilters(since=SINCE, until=UNTIL)

    for _ in ("as the triggers wrote them", "folded"):
        points = await DashboardQueries(runtime).compliance_over_time(filters, ZoneInfo(zone))
        assert [(p.since, p.until) for p in points] == periods
        for point, met, finished in zip(points, met_in, finished_in, strict=True):
            first = next(t for t in point.targets if t.target == "first_response")
            assert (first.met, first.breached) == (met, finished - met), (point.since, point.until)
        await fold_report_counts(runtime)
