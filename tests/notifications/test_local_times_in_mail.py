"""Times in customer mail are shown in the customer's time zone, else HELPDESK_DEFAULT_TIME_ZONE, with the zone's
abbreviation and in the customer's language; what is stored stays UTC.

The test clock stands at 2027-03-01 09:00 UTC: 12:00 in Moscow (MSK), 10:00 in Berlin (CET).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from helpdesk.channels.email.models import InboundSource
from helpdesk.channels.email.service import MailService
from helpdesk.core.settings import Settings
from helpdesk.notifications.models import OutgoingMail
from helpdesk.notifications.rendering import Reader, local_clock, local_date, reader_of
from helpdesk.runtime import Runtime

MOSCOW = ZoneInfo("Europe/Moscow")
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("at", "zone", "clock"),
    [
        (datetime(2027, 3, 1, 9, 0, tzinfo=UTC), MOSCOW, "12:00 MSK"),
        (datetime(2027, 3, 1, 9, 0, tzinfo=UTC), BERLIN, "10:00 CET"),
        # Summer time changes the hour and the abbreviation.
        (datetime(2027, 7, 1, 9, 0, tzinfo=UTC), BERLIN, "11:00 CEST"),
        (datetime(2027, 3, 1, 9, 0, tzinfo=UTC), ZoneInfo("UTC"), "09:00 UTC"),
        # A naive value is read as UTC, the storage zone; an aware one in another offset is the same instant.
        (datetime(2027, 3, 1, 9, 0), MOSCOW, "12:00 MSK"),  # noqa: DTZ001
        (datetime(2027, 3, 1, 11, 0, tzinfo=timezone(timedelta(hours=2))), MOSCOW, "12:00 MSK"),
    ],
)
def test_a_clock_time_is_shown_in_the_zone_with_its_abbreviation(
    at: datetime, zone: ZoneInfo, clock: str
) -> None:
    assert local_clock(at, zone) == clock


@pytest.mark.parametrize(
    ("language", "zone", "day"),
    [
        ("en", MOSCOW, "March 2, 2027"),
        ("ru", MOSCOW, "2 марта 2027\u202fг."),  # CLDR: a narrow no-break space before "г."
        # Late evening in UTC is still the first of March in Berlin.
        ("en", BERLIN, "March 1, 2027"),
    ],
)
def test_the_day_is_the_day_in_the_zone_spelled_in_the_language(
    language: str, zone: ZoneInfo, day: str
) -> None:
    assert local_date(datetime(2027, 3, 1, 22, 30, tzinfo=UTC), zone, language) == day


@pytest.mark.parametrize(
    ("language", "time_zone", "reader"),
    [
        ("ru", "Europe/Moscow", Reader("ru", MOSCOW)),
        (None, None, Reader("en", BERLIN)),
        ("ru-RU", None, Reader("ru", BERLIN)),
        # A zone name the database does not know (stored before a zone was renamed) falls back too.
        ("en", "Mars/Olympus_Mons", Reader("en", BERLIN)),
    ],
)
def test_a_reader_is_the_customers_language_and_zone_else_the_help_desks_defaults(
    language: str | None, time_zone: str | None, reader: Reader
) -> None:
    defaults = Settings(database_url="sqlite+aiosqlite://", default_time_zone="Europe/Berlin")
    assert reader_of(language, time_zone, defaults) == reader


# -- through the app -------------------------------------------------------------------------------------------


async def make_customer(client: httpx.AsyncClient, admin: Any, email: str, **settings: Any) -> int:
    created = await client.post(
        "/api/v1/customers", json={"email": email, "name": "Olga"}, headers=admin.headers
    )
    assert created.status_code == 201, created.text
    customer_id: int = created.json()["id"]
    if settings:
        changed = await client.patch(f"/api/v1/customers/{customer_id}", json=settings, headers=admin.headers)
        assert changed.status_code == 200, changed.text
    return customer_id


async def open_for(client: httpx.AsyncClient, agent: Any, customer_id: int) -> None:
    body = {"subject": "Boiler leaks", "description": "Water on the floor", "customer_id": customer_id}
    response = await client.post("/api/v1/tickets", json=body, headers=agent.headers)
    assert response.status_code == 201, response.text


async def mail_to(runtime: Runtime, address: str, kind: str) -> OutgoingMail:
    async with runtime.sessions() as session:
        mail = await session.scalar(
            select(OutgoingMail)
            .where(OutgoingMail.to_address == address, OutgoingMail.kind == kind)
            .order_by(OutgoingMail.id.desc())
            .limit(1)
        )
    assert mail is not None, f"no {kind} mail to {address}"
    return mail


@pytest.mark.integration
async def test_a_customer_in_moscow_is_acknowledged_with_the_time_in_msk_in_russian(
    client, runtime, admin, agent
) -> None:  # type: ignore[no-untyped-def]
    customer_id = await make_customer(
        client, admin, "olga@example.ru", language="ru", time_zone="Europe/Moscow"
    )

    await open_for(client, agent, customer_id)

    ack = await mail_to(runtime, "olga@example.ru", "ticket_acknowledgement")
    assert "1 марта 2027\u202fг. в 12:00 MSK" in ack.body_text
    assert "1 марта 2027\u202fг. в\n12:00 MSK" in ack.body_html
    assert "UTC" not in ack.body_text


@pytest.mark.integration
async def test_a_customer_without_a_zone_is_acknowledged_in_the_help_desks_default_zone(
    make_client, admin, agent
) -> None:  # type: ignore[no-untyped-def]
    async with make_client(default_time_zone="Europe/Berlin") as (client, runtime):
        customer_id = await make_customer(client, admin, "nils@example.com")

        await open_for(client, agent, customer_id)

        ack = await mail_to(runtime, "nils@example.com", "ticket_acknowledgement")
    assert "on March 1, 2027 at 10:00 CET" in ack.body_text


@pytest.mark.integration
async def test_a_customer_without_a_zone_or_a_default_zone_reads_utc(client, runtime, admin, agent) -> None:  # type: ignore[no-untyped-def]
    customer_id = await make_customer(client, admin, "una@example.com")

    await open_for(client, agent, customer_id)

    ack = await mail_to(runtime, "una@example.com", "ticket_acknowledgement")
    assert "on March 1, 2027 at 09:00 UTC" in ack.body_text


@pytest.mark.integration
async def test_a_mail_batch_acknowledges_each_customer_in_their_own_zone(client, runtime, admin) -> None:  # type: ignore[no-untyped-def]
    await make_customer(client, admin, "olga@example.ru", language="ru", time_zone="Europe/Moscow")
    service = MailService(runtime)
    ids = []
    for sender in ("olga@example.ru", "una@example.com"):
        raw = f"From: {sender}\r\nTo: support@helpdesk.localhost\r\nSubject: Boiler\r\n\r\nIt leaks.\r\n".encode()
        ids.append((await service.store(raw, InboundSource.PIPE, enqueue=False)).id)

    assert set((await service.process_batch(ids)).values()) == {"new_ticket"}

    assert "в 12:00 MSK" in (await mail_to(runtime, "olga@example.ru", "ticket_acknowledgement")).body_text
    assert "at 09:00 UTC" in (await mail_to(runtime, "una@example.com", "ticket_acknowledgement")).body_text


@pytest.mark.integration
async def test_a_sign_in_link_says_until_when_it_works_in_the_customers_zone(client, runtime, admin) -> None:  # type: ignore[no-untyped-def]
    await make_customer(client, admin, "olga@example.ru", language="ru", time_zone="Europe/Moscow")

    response = await client.post("/api/v1/auth/magic-link", json={"email": "olga@example.ru"})

    assert response.status_code == 202, response.text
    link = await mail_to(runtime, "olga@example.ru", "magic_link")
    # 30 minutes from 09:00 UTC.
    assert "в течение 30 минут (до 12:30 MSK)" in link.body_text
    assert "(до 12:30 MSK)" in link.body_html


@pytest.mark.integration
async def test_a_sign_in_link_for_a_customer_without_a_zone_uses_the_default_zone(make_client, admin) -> None:  # type: ignore[no-untyped-def]
    async with make_client(default_time_zone="Europe/Berlin") as (client, runtime):
        await make_customer(client, admin, "nils@example.com")

        response = await client.post("/api/v1/auth/magic-link", json={"email": "nils@example.com"})

        assert response.status_code == 202, response.text
        link = await mail_to(runtime, "nils@example.com", "magic_link")
    assert "within 30 minutes (until 10:30 CET)" in link.body_text
