"""Publishing a plan mails each customer their visit window from the Jinja2 templates: in their language, in
their own time zone (else the desk's default) with the zone named, as text and HTML."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from fieldkit import (
    drain_jobs,  # noqa: F401  (an autouse fixture)
    make_technician,
    make_work_order,
    plan_day,
    publish,
    work_order,
)
from sqlalchemy import select

from helpdesk.notifications.models import OutgoingMail

pytestmark = pytest.mark.integration


async def appointment_mails(runtime: Any) -> list[OutgoingMail]:
    async with runtime.sessions() as session:
        return list(
            await session.scalars(
                select(OutgoingMail).where(OutgoingMail.kind == "field_appointment").order_by(OutgoingMail.id)
            )
        )


async def set_customer(client: Any, admin: Any, customer_id: int, **fields: Any) -> None:
    response = await client.patch(f"/api/v1/customers/{customer_id}", json=fields, headers=admin.headers)
    assert response.status_code == 200, response.text


def clock_in(iso: str, hours: int) -> str:
    return f"{datetime.fromisoformat(iso) + timedelta(hours=hours):%H:%M}"


async def customer_of(client: Any, agent: Any, order: dict[str, Any]) -> int:
    ticket = await client.get(f"/api/v1/tickets/{order['ticket_id']}", headers=agent.headers)
    assert ticket.status_code == 200, ticket.text
    customer_id: int = ticket.json()["customer_id"]
    return customer_id


async def test_a_russian_customer_in_berlin_gets_the_window_in_russian_in_berlin_time_with_the_zone_named(  # type: ignore[no-untyped-def]
    client, runtime, admin, agent, make_staff, open_ticket
):
    await make_technician(client, admin, make_staff)  # works in UTC
    order = await make_work_order(client, agent, open_ticket, customer_email="olga@example.com")
    customer_id = await customer_of(client, agent, order)
    await set_customer(client, admin, customer_id, language="ru", time_zone="Europe/Berlin")
    plan = await plan_day(client, runtime, agent)
    await publish(client, runtime, agent, plan["id"])

    [mail] = await appointment_mails(runtime)
    placed = await work_order(client, agent, order["id"])
    start, end = clock_in(placed["window_start_at"], 1), clock_in(placed["window_end_at"], 1)  # CET = UTC+1
    assert mail.to_address == "olga@example.com"
    assert mail.subject.startswith(f"[{order['ticket_reference']}] Визит техника: понедельник, 1 марта 2027")
    assert f"с {start} до {end} (Europe/Berlin, CET)" in mail.body_text
    assert "Tom Tech" in mail.body_text
    assert f"<strong>{start}</strong> до <strong>{end}</strong>" in mail.body_html
    assert "/track/" in mail.body_text


async def test_a_customer_without_a_zone_or_language_gets_english_in_the_desks_default_zone(  # type: ignore[no-untyped-def]
    make_client, smtp_server, admin, agent, make_staff, open_ticket
):
    async with make_client(
        default_time_zone="America/New_York", mail_enabled=True, smtp_port=smtp_server.port
    ) as (client, runtime):
        await make_technician(client, admin, make_staff)
        order = await make_work_order(client, agent, open_ticket, customer_email="nick@example.com")
        plan = await plan_day(client, runtime, agent)
        await publish(client, runtime, agent, plan["id"])
        await runtime.queue.drain()

        placed = await work_order(client, agent, order["id"])
    start, end = clock_in(placed["window_start_at"], -5), clock_in(placed["window_end_at"], -5)  # EST
    appointment = [m for m in smtp_server.messages if "Technician visit" in m["Subject"]]
    [message] = appointment
    assert message["To"] == "nick@example.com"
    assert "Monday, March 1, 2027" in message["Subject"]
    text = message.get_body(("plain",)).get_content()
    assert f"arriving between {start} and {end} (America/New_York, EST)" in text
    html = message.get_body(("html",)).get_content()
    assert f"<strong>{start}</strong> and <strong>{end}</strong>" in html
