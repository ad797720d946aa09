"""The staff SLA notice is worded in the staff member's language with its times in their time zone (their
settings), else in HELPDESK_DEFAULT_LANGUAGE and HELPDESK_DEFAULT_TIME_ZONE, as customer mail is.

The test clock starts at Monday 2027-03-01 09:00 UTC; the default policy (09-17 UTC, P3 first response in 480
business minutes) warns at 15:00 UTC: 18:00 in Moscow (MSK), 16:00 in Berlin (CET).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from helpdesk.notifications.models import OutgoingMail
from helpdesk.runtime import Runtime
from helpdesk.tickets.escalation import escalate_overdue
from helpdesk.tickets.models import Message

pytestmark = pytest.mark.integration

WARNING_PASSED = datetime(2027, 3, 1, 15, 5, tzinfo=UTC)


async def assigned_ticket(client: httpx.AsyncClient, agent: Any, admin: Any, **settings: Any) -> str:
    """A ticket assigned to ``agent`` after ``admin`` has given the agent ``settings``; returns its reference."""
    if settings:
        changed = await client.patch(f"/api/v1/users/{agent.id}", json=settings, headers=admin.headers)
        assert changed.status_code == 200, changed.text
    body = {
        "subject": "Autoclave E-104",
        "description": "Cycle aborts",
        "customer_email": "olga@clinic.example",
    }
    created = await client.post("/api/v1/tickets", json=body, headers=agent.headers)
    assert created.status_code == 201, created.text
    ticket = created.json()
    assigned = await client.patch(
        f"/api/v1/tickets/{ticket['id']}",
        json={"version": ticket["version"], "assignee_id": agent.id},
        headers=agent.headers,
    )
    assert assigned.status_code == 200, assigned.text
    reference: str = ticket["reference"]
    return reference


async def warnings_to(runtime: Runtime, address: str) -> list[OutgoingMail]:
    async with runtime.sessions() as session:
        return list(
            await session.scalars(
                select(OutgoingMail).where(
                    OutgoingMail.to_address == address, OutgoingMail.kind == "sla_warning_1"
                )
            )
        )


async def test_an_agent_in_moscow_reading_russian_gets_the_notice_in_russian_with_msk_times(
    client, runtime, clock, agent, admin
) -> None:  # type: ignore[no-untyped-def]
    reference = await assigned_ticket(client, agent, admin, language="ru", time_zone="Europe/Moscow")
    clock.set(WARNING_PASSED)

    assert await escalate_overdue(runtime) == 1
    await runtime.queue.drain()

    [notice] = await warnings_to(runtime, agent.email)
    assert notice.subject == f"[{reference}] SLA: скоро срок «первый ответ»"
    assert f"срок «первый ответ» по обращению {reference} скоро истекает" in notice.body_text
    assert "1 марта 2027\u202fг. в 18:00 MSK" in notice.body_text
    assert "18:00 MSK" in notice.body_html
    assert "UTC" not in notice.body_text
    assert "SLA warning" not in notice.body_text


async def test_an_agent_without_settings_gets_the_notice_in_the_help_desks_language_and_zone(
    make_client, clock, agent, admin
) -> None:  # type: ignore[no-untyped-def]
    async with make_client(default_language="en", default_time_zone="Europe/Berlin") as (client, runtime):
        reference = await assigned_ticket(client, agent, admin)
        clock.set(WARNING_PASSED)

        assert await escalate_overdue(runtime) == 1
        await runtime.queue.drain()

        [notice] = await warnings_to(runtime, agent.email)
    assert notice.subject == f"[{reference}] SLA warning: first response due soon"
    assert "warning reached at 16:00 CET on March 1, 2027" in notice.body_text
    assert "UTC" not in notice.body_text


async def test_the_default_language_can_be_russian_for_staff_who_chose_nothing(
    make_client, clock, agent, admin
) -> None:  # type: ignore[no-untyped-def]
    async with make_client(default_language="ru", default_time_zone="Europe/Moscow") as (client, runtime):
        await assigned_ticket(client, agent, admin)
        clock.set(WARNING_PASSED)

        assert await escalate_overdue(runtime) == 1
        await runtime.queue.drain()

        [notice] = await warnings_to(runtime, agent.email)
    assert "Предупреждение SLA (уровень 1)" in notice.body_text
    assert "18:00 MSK" in notice.body_text


async def test_the_breach_note_on_the_ticket_is_in_the_help_desks_language_and_zone(
    make_client, clock, agent, admin
) -> None:  # type: ignore[no-untyped-def]
    async with make_client(default_time_zone="Europe/Berlin") as (client, runtime):
        reference = await assigned_ticket(client, agent, admin, language="ru", time_zone="Europe/Moscow")
        clock.set(datetime(2027, 3, 2, 9, 0, tzinfo=UTC))  # breached at 17:00 UTC, told next morning

        assert await escalate_overdue(runtime) >= 1
        await runtime.queue.drain()

        async with runtime.sessions() as session:
            notes = list(
                await session.scalars(select(Message.body_text).where(Message.kind == "internal_note"))
            )
    assert (
        f"SLA breached: the first response target of {reference} was due at 18:00 CET on March 1, 2027."
        in notes
    )
