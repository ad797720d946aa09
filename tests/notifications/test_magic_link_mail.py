"""The sign-in link's mail says until when the link works in the customer's zone, with the date as well when
that moment falls on another day there than the day the mail is sent (a bare "until 00:10" is ambiguous)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from test_local_times_in_mail import mail_to, make_customer

from helpdesk.notifications.rendering import Reader, is_another_local_day, render_mail_for

MOSCOW = ZoneInfo("Europe/Moscow")
LINK = "https://desk.example/portal/magic/abc"


def _mail(language: str, sent_at: datetime, minutes: int = 20) -> tuple[str, str]:
    rendered = render_mail_for(
        Reader(language, MOSCOW),
        "magic_link",
        link=LINK,
        minutes=minutes,
        sent_at=sent_at,
        expires_at=sent_at + timedelta(minutes=minutes),
    )
    return rendered.body_text, rendered.body_html


@pytest.mark.parametrize(
    ("language", "until"),
    [
        ("en", "(until 00:10 MSK on March 2, 2027)"),
        ("ru", "(до 00:10 MSK 2 марта 2027\u202fг.)"),  # CLDR: a narrow no-break space before "г."
    ],
)
def test_a_link_ending_on_the_next_day_in_the_customers_zone_names_that_day(
    language: str, until: str
) -> None:
    # 23:50 MSK on March 1; the link ends at 00:10 MSK on March 2.
    text, html = _mail(language, datetime(2027, 3, 1, 20, 50, tzinfo=UTC))

    assert until in text
    assert until in html


@pytest.mark.parametrize(("language", "until"), [("en", "(until 12:20 MSK)"), ("ru", "(до 12:20 MSK)")])
def test_a_link_ending_on_the_day_it_is_sent_shows_the_time_only(language: str, until: str) -> None:
    text, html = _mail(language, datetime(2027, 3, 1, 9, 0, tzinfo=UTC))

    assert until in text
    assert until in html


def test_the_day_is_compared_in_the_customers_zone_not_in_utc() -> None:
    # 23:50 UTC on March 1 is 02:50 MSK on March 2; the link ends at 03:10 MSK the same Moscow day.
    text, _ = _mail("en", datetime(2027, 3, 1, 23, 50, tzinfo=UTC))

    assert "(until 03:10 MSK)" in text


@pytest.mark.parametrize(
    ("value", "reference", "another_day"),
    [
        (datetime(2027, 3, 1, 21, 10, tzinfo=UTC), datetime(2027, 3, 1, 20, 50, tzinfo=UTC), True),
        (datetime(2027, 3, 2, 0, 10, tzinfo=UTC), datetime(2027, 3, 1, 23, 50, tzinfo=UTC), False),
        # Naive values are UTC, the storage zone.
        (datetime(2027, 3, 1, 21, 10), datetime(2027, 3, 1, 20, 50, tzinfo=UTC), True),  # noqa: DTZ001
    ],
)
def test_another_local_day_is_judged_in_the_zone(
    value: datetime, reference: datetime, another_day: bool
) -> None:
    assert is_another_local_day(value, reference, MOSCOW) is another_day


@pytest.mark.integration
async def test_a_sign_in_link_asked_for_shortly_before_midnight_in_moscow_names_the_next_day(
    client, runtime, admin, clock
) -> None:  # type: ignore[no-untyped-def]
    await make_customer(client, admin, "olga@example.ru", language="ru", time_zone="Europe/Moscow")
    clock.set(datetime(2027, 3, 1, 20, 50, tzinfo=UTC))  # 23:50 MSK

    response = await client.post("/api/v1/auth/magic-link", json={"email": "olga@example.ru"})

    assert response.status_code == 202, response.text
    link = await mail_to(runtime, "olga@example.ru", "magic_link")
    assert "в течение 30 минут (до 00:20 MSK 2 марта 2027\u202fг.)" in link.body_text
