"""The compliance chart's x labels: the local day each period starts on, in the reader's language; months
name their year at the first and at each January."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from helpdesk.web.charts import period_labels

MOSCOW = ZoneInfo("Europe/Moscow")
# Days that begin late on the UTC day before: their labels are the Moscow days.
DAYS = [datetime(2027, 2, 27, 21, 30, tzinfo=UTC), datetime(2027, 2, 28, 21, 30, tzinfo=UTC)]
MONTHS = [datetime(2026, 11, 14, 9, tzinfo=UTC)] + [
    datetime(year, month, 1, tzinfo=MOSCOW).astimezone(UTC)
    for year, month in ((2026, 12), (2027, 1), (2027, 2))
]


@pytest.mark.parametrize(
    ("language", "days", "months"),
    [
        ("en", ["Feb 28", "Mar 1"], ["Nov 2026", "Dec", "Jan 2027", "Feb"]),
        ("ru", ["28 февр.", "1 мар."], ["нояб. 2026", "дек.", "янв. 2027", "февр."]),
    ],
)
def test_labels_are_local_days_or_months_with_the_year_where_it_changes(
    language: str, days: list[str], months: list[str]
) -> None:
    assert period_labels(DAYS, False, language, MOSCOW) == days
    assert period_labels(MONTHS, True, language, MOSCOW) == months
