"""SLA deadlines on real tickets, driven through the API with a fixed clock (default policy: Mon–Fri 09–17 UTC,
P3 first response 480 business minutes, resolution 2400; P1 first response 60)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from helpdesk.notifications.models import OutgoingMail
from helpdesk.tickets.escalation import escalate_overdue
from helpdesk.tickets.models import Message
from sla.models import EscalationFiredRow

pytestmark = pytest.mark.integration

MONDAY_9 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def open_ticket(client, agent, **extra):  # type: ignore[no-untyped-def]
    body = {
        "subject": "Autoclave E-104",
        "description": "Cycle aborts",
        "customer_email": "olga@clinic.example",
        **extra,
    }
    response = await client.post("/api/v1/tickets", json=body, headers=agent.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def patch(client, agent, ticket, **changes):  # type: ignore[no-untyped-def]
    current = (await client.get(f"/api/v1/tickets/{ticket['id']}", headers=agent.headers)).json()
    response = await client.patch(
        f"/api/v1/tickets/{ticket['id']}",
        json={"version": current["version"], **changes},
        headers=agent.headers,
    )
    assert response.status_code == 200, response.text
    return response.json()


async def sla(client, agent, ticket):  # type: ignore[no-untyped-def]
    response = await client.get(f"/api/v1/tickets/{ticket['id']}/sla", headers=agent.headers)
    assert response.status_code == 200, response.text
    return {t["target"]: t for t in response.json()["targets"]} | {"_pauses": response.json()["pauses"]}


async def test_new_ticket_gets_business_hours_deadlines_from_the_default_policy(client, agent, clock):  # type: ignore[no-untyped-def]
    ticket = await open_ticket(client, agent)
    assert ticket["priority"] == "P3"
    assert at(ticket["first_response_due_at"][:19]) == at("2027-03-01T17:00:00")
    assert at(ticket["resolution_due_at"][:19]) == at("2027-03-05T17:00:00")
    assert ticket["sla_due_at"] == ticket["first_response_due_at"]


async def test_first_response_before_the_deadline_is_met(client, agent, clock):  # type: ignore[no-untyped-def]
    ticket = await open_ticket(client, agent)
    clock.advance(timedelta(hours=2))
    await client.post(
        f"/api/v1/tickets/{ticket['id']}/messages", json={"body": "On it"}, headers=agent.headers
    )
    targets = await sla(client, agent, ticket)
    assert targets["first_response"]["state"] == "met"
    assert targets["first_response"]["margin_minutes"] == pytest.approx(360)


async def test_first_response_after_the_deadline_is_breached(client, agent, clock):  # type: ignore[no-untyped-def]
    ticket = await open_ticket(client, agent)
    clock.set(at("2027-03-02T10:00:00"))
    targets = await sla(client, agent, ticket)
    assert targets["first_response"]["state"] == "breached"
    assert targets["first_response"]["margin_minutes"] == pytest.approx(-60)


async def test_customer_reply_arms_the_next_response_clock(client, agent, clock, runtime):  # type: ignore[no-untyped-def]
    from helpdesk.accounts.principal import Principal
    from helpdesk.tickets.schemas import MessageCreate
    from helpdesk.tickets.service import TicketService

    ticket = await open_ticket(client, agent)
    clock.advance(timedelta(hours=1))
    await client.post(
        f"/api/v1/tickets/{ticket['id']}/messages", json={"body": "Photo please"}, headers=agent.headers
    )
    clock.advance(timedelta(hours=1))
    customer = Principal(customer_id=ticket["customer_id"], name="Olga")
    await TicketService(runtime).add_message(customer, ticket["id"], MessageCreate(body="Here it is"))
    refreshed = (await client.get(f"/api/v1/tickets/{ticket['id']}", headers=agent.headers)).json()
    # P3 next response: 960 business minutes from Monday 11:00 = Tuesday 11:00 + 8h = Wednesday 11:00.
    assert at(refreshed["next_response_due_at"][:19]) == at("2027-03-03T11:00:00")


async def test_waiting_on_the_customer_pauses_the_resolution_clock(client, agent, clock):  # type: ignore[no-untyped-def]
    ticket = await open_ticket(client, agent)
    clock.advance(timedelta(hours=1))
    await patch(client, agent, ticket, status="pending_customer")
    clock.advance(timedelta(hours=2))
    reopened = await patch(client, agent, ticket, status="open")
    # Two business hours paused: Friday 17:00 moves past the weekend to Monday 11:00.
    assert at(reopened["resolution_due_at"][:19]) == at("2027-03-08T11:00:00")
    targets = await sla(client, agent, ticket)
    assert targets["_pauses"][0]["status"] == "pending_customer"
    assert targets["_pauses"][0]["paused_by"].startswith("Alex Agent")


async def test_warning_and_breach_each_fire_once_and_notify(client, agent, clock, runtime):  # type: ignore[no-untyped-def]
    ticket = await open_ticket(client, agent)
    await patch(client, agent, ticket, assignee_id=agent.id)
    clock.set(at("2027-03-01T15:05:00"))  # 75 % of 480 minutes have passed at 15:00
    assert await escalate_overdue(runtime) == 1
    assert await escalate_overdue(runtime) == 0
    clock.set(at("2027-03-01T17:01:00"))  # breached at 17:00, the end of the working day: told next morning
    assert await escalate_overdue(runtime) == 0
    clock.set(at("2027-03-02T09:00:00"))
    assert await escalate_overdue(runtime) == 1
    assert await escalate_overdue(runtime) == 0
    await runtime.queue.drain()  # the levels' actions run as jobs after the sweep commits
    async with runtime.sessions() as session:
        kinds = sorted(
            await session.scalars(select(OutgoingMail.kind).where(OutgoingMail.to_address == agent.email))
        )
        notes = await session.scalar(
            select(func.count()).select_from(Message).where(Message.kind == "internal_note")
        )
    assert kinds == ["sla_breach", "sla_warning_1"]
    assert notes == 1


async def test_breach_outside_business_hours_is_notified_at_the_next_working_minute(
    client, agent, clock, runtime
):  # type: ignore[no-untyped-def]
    clock.set(at("2027-03-05T16:00:00"))  # Friday
    ticket = await open_ticket(client, agent, impact="high", urgency="high")
    assert ticket["priority"] == "P1"
    clock.set(at("2027-03-05T16:50:00"))
    assert await escalate_overdue(runtime) == 1  # the warning at 16:45
    clock.set(at("2027-03-06T12:00:00"))  # Saturday: breached at 17:00 Friday, but nobody is paged now
    assert await escalate_overdue(runtime) == 0
    refreshed = (await client.get(f"/api/v1/tickets/{ticket['id']}", headers=agent.headers)).json()
    assert refreshed["id"] == ticket["id"]
    clock.set(at("2027-03-08T09:00:00"))  # Monday morning
    assert await escalate_overdue(runtime) == 1


async def test_two_workers_sweeping_at_once_fire_each_level_once(client, agent, clock, runtime):  # type: ignore[no-untyped-def]
    for index in range(12):
        await open_ticket(client, agent, customer_email=f"c{index}@clinic.example")
    clock.set(at("2027-03-01T15:05:00"))
    fired = await asyncio.gather(
        escalate_overdue(runtime, batch_size=5), escalate_overdue(runtime, batch_size=5)
    )
    assert sum(fired) == 12
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(EscalationFiredRow)) == 12


async def admin_policy(client, admin, **extra):  # type: ignore[no-untyped-def]
    calendar = await client.post(
        "/api/v1/sla/calendars",
        headers=admin.headers,
        json={"name": "Around the clock", "calendar": {"24/7": True}},
    )
    assert calendar.status_code == 201, calendar.text
    targets = {p: {"first_response_minutes": 30, "resolution_minutes": 240} for p in ("P1", "P2", "P3", "P4")}
    policy = await client.post(
        "/api/v1/sla/policies",
        headers=admin.headers,
        json={
            "name": "Premium",
            "calendar_id": calendar.json()["id"],
            "targets": targets,
            "notify_any_hour": True,
            **extra,
        },
    )
    assert policy.status_code == 201, policy.text
    return policy.json()


async def test_contract_tier_raises_priority_and_its_policy_sets_the_deadlines(client, agent, admin, clock):  # type: ignore[no-untyped-def]
    policy = await admin_policy(client, admin)
    organisation = await client.post(
        "/api/v1/organisations", headers=admin.headers, json={"name": "Clinic", "domain": "clinic.example"}
    )
    contract = await client.post(
        "/api/v1/sla/contracts",
        headers=admin.headers,
        json={
            "name": "Premium 2027",
            "organisation_id": organisation.json()["id"],
            "policy_id": policy["id"],
            "valid_from": "2027-01-01T00:00:00Z",
            "tier": 1,
            "coverage": ["premium_24_7"],
        },
    )
    assert contract.status_code == 201, contract.text
    ticket = await open_ticket(client, agent, impact="medium", urgency="medium")
    assert ticket["priority"] == "P2"
    assert at(ticket["first_response_due_at"][:19]) == at("2027-03-01T09:30:00")


async def test_policy_edit_changes_deadlines_only_after_a_recompute(client, agent, admin, clock, runtime):  # type: ignore[no-untyped-def]
    policy = await admin_policy(client, admin, is_default=True)
    ticket = await open_ticket(client, agent)
    assert at(ticket["first_response_due_at"][:19]) == at("2027-03-01T09:30:00")
    targets = {p: {"first_response_minutes": 90, "resolution_minutes": 240} for p in ("P1", "P2", "P3", "P4")}
    edited = await client.patch(
        f"/api/v1/sla/policies/{policy['id']}", headers=admin.headers, json={"targets": targets}
    )
    assert edited.status_code == 200
    assert edited.json()["version"] == 2
    unchanged = (await client.get(f"/api/v1/tickets/{ticket['id']}", headers=agent.headers)).json()
    assert unchanged["first_response_due_at"] == ticket["first_response_due_at"]
    response = await client.post(f"/api/v1/sla/policies/{policy['id']}/recompute", headers=admin.headers)
    assert response.status_code == 202
    await runtime.queue.drain()
    moved = (await client.get(f"/api/v1/tickets/{ticket['id']}", headers=agent.headers)).json()
    assert at(moved["first_response_due_at"][:19]) == at("2027-03-01T10:30:00")
    assert any(e["field"] == "sla_policy_version" for e in moved["audit"])


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/api/v1/sla/calendars",
            {"name": "Bad", "calendar": {"week": {"mon": ["09:00-13:00", "12:00-18:00"]}}},
            "calendar.week.mon[1]",
        ),
        (
            "/api/v1/sla/calendars",
            {"name": "Bad", "calendar": {"timezone": "Mars/Olympus", "24/7": True}},
            "calendar.timezone",
        ),
        (
            "/api/v1/sla/policies",
            {
                "name": "Half",
                "calendar_id": 1,
                "targets": {"P1": {"first_response_minutes": 5, "resolution_minutes": 9}},
            },
            None,
        ),
        (
            "/api/v1/sla/contracts",
            {
                "name": "No policy",
                "organisation_id": 1,
                "policy_id": 999,
                "valid_from": "2027-01-01T00:00:00Z",
            },
            "policy_id",
        ),
    ],
)
async def test_bad_sla_configuration_is_rejected_naming_the_field(client, admin, path, body, field):  # type: ignore[no-untyped-def]
    response = await client.post(path, json=body, headers=admin.headers)
    assert 400 <= response.status_code < 500, response.text
    if field:
        assert response.json()["field"] == field
