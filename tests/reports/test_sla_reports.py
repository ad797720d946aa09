"""Managers see SLA breaches, warnings and compliance, filtered, as JSON and CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from helpdesk.tickets.escalation import escalate_overdue

pytestmark = pytest.mark.integration


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def open_ticket(client, agent, email):  # type: ignore[no-untyped-def]
    response = await client.post(
        "/api/v1/tickets",
        json={"subject": "Compressor loud", "description": "Very loud", "customer_email": email},
        headers=agent.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
async def history(client, agent, clock, runtime):  # type: ignore[no-untyped-def]
    """Two tickets opened Monday 09:00: one answered at 10:00, one never answered (breached at 17:00)."""
    answered = await open_ticket(client, agent, "a@clinic.example")
    ignored = await open_ticket(client, agent, "b@clinic.example")
    clock.set(at("2027-03-01T10:00:00"))
    await client.post(
        f"/api/v1/tickets/{answered['id']}/messages", json={"body": "Done"}, headers=agent.headers
    )
    clock.set(at("2027-03-01T15:30:00"))
    await escalate_overdue(runtime)
    clock.set(at("2027-03-02T09:30:00"))
    await escalate_overdue(runtime)
    await runtime.queue.drain()  # the breach's actions (and its recorded state) run as a job
    return answered, ignored


@pytest.fixture
async def manager(make_staff):  # type: ignore[no-untyped-def]
    return await make_staff("manager", name="Mia Manager")


async def test_compliance_counts_met_and_breached_first_responses(client, manager, history):  # type: ignore[no-untyped-def]
    response = await client.get(
        "/api/v1/reports/sla/compliance?since=2027-03-01T00:00:00Z&until=2027-03-03T00:00:00Z",
        headers=manager.headers,
    )
    assert response.status_code == 200, response.text
    first = next(t for t in response.json()["targets"] if t["target"] == "first_response")
    assert (first["met"], first["breached"], first["compliance_percent"]) == (1, 1, 50.0)


async def test_events_list_the_breach_and_the_warning_of_the_unanswered_ticket(client, manager, history):  # type: ignore[no-untyped-def]
    _, ignored = history
    response = await client.get(
        "/api/v1/reports/sla/events?since=2027-03-01T00:00:00Z&until=2027-03-03T00:00:00Z",
        headers=manager.headers,
    )
    events = [(e["ticket_id"], e["target"], e["level"]) for e in response.json()]
    assert (ignored["id"], "first_response", "breach") in events
    assert (ignored["id"], "first_response", "warning_1") in events


async def test_events_export_as_csv_with_a_header_row(client, manager, history):  # type: ignore[no-untyped-def]
    response = await client.get(
        "/api/v1/reports/sla/events.csv?since=2027-03-01T00:00:00Z&until=2027-03-03T00:00:00Z",
        headers=manager.headers,
    )
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {row["level"] for row in rows} >= {"breach", "warning_1"}


async def test_filter_by_priority_leaves_out_other_priorities(client, manager, history):  # type: ignore[no-untyped-def]
    response = await client.get(
        "/api/v1/reports/sla/events?since=2027-03-01T00:00:00Z&until=2027-03-03T00:00:00Z&priority=P1",
        headers=manager.headers,
    )
    assert response.json() == []


async def test_agents_cannot_read_manager_reports(client, agent):  # type: ignore[no-untyped-def]
    response = await client.get("/api/v1/reports/sla/compliance", headers=agent.headers)
    assert response.status_code == 403


async def test_an_inverted_period_is_rejected_naming_the_field(client, manager):  # type: ignore[no-untyped-def]
    response = await client.get(
        "/api/v1/reports/sla/compliance?since=2027-03-03T00:00:00Z&until=2027-03-01T00:00:00Z",
        headers=manager.headers,
    )
    assert response.status_code == 422
    assert response.json()["field"] == "until"


@pytest.mark.parametrize("query", ["since=2027-03-01T00:00:00", "until=2027-03-03T00:00:00"])
async def test_a_period_without_a_time_zone_is_rejected_naming_the_field(client, manager, query):  # type: ignore[no-untyped-def]
    for report in ("compliance", "events", "events.csv"):
        response = await client.get(f"/api/v1/reports/sla/{report}?{query}", headers=manager.headers)
        assert response.status_code == 422, (report, response.text)
        assert response.json()["field"] == query.partition("=")[0]


async def test_a_first_response_sent_after_its_deadline_counts_as_breached_not_met(  # type: ignore[no-untyped-def]
    client, manager, agent, clock, history
):
    _, ignored = history
    clock.set(at("2027-03-02T10:00:00"))  # answered, but a day late
    reply = await client.post(
        f"/api/v1/tickets/{ignored['id']}/messages",
        json={"body": "Sorry for the wait"},
        headers=agent.headers,
    )
    assert reply.status_code == 201, reply.text
    response = await client.get(
        "/api/v1/reports/sla/compliance?since=2027-03-01T00:00:00Z&until=2027-03-03T00:00:00Z",
        headers=manager.headers,
    )
    first = next(t for t in response.json()["targets"] if t["target"] == "first_response")
    assert (first["met"], first["breached"], first["compliance_percent"]) == (1, 1, 50.0)


async def test_closing_the_breached_ticket_leaves_its_breach_in_the_compliance_report(  # type: ignore[no-untyped-def]
    client, manager, agent, clock, history
):
    _, ignored = history
    clock.set(at("2027-03-02T10:00:00"))  # closed unanswered: its clocks stop, the first response breached
    current = (await client.get(f"/api/v1/tickets/{ignored['id']}", headers=agent.headers)).json()
    closed = await client.patch(
        f"/api/v1/tickets/{ignored['id']}",
        json={"version": current["version"], "status": "closed"},
        headers=agent.headers,
    )
    assert closed.status_code == 200, closed.text
    # Whole days come from the counters; a period off the hour takes its edges from the clocks themselves.
    for period in (
        "2027-03-01T00:00:00Z&until=2027-03-03T00:00:00Z",
        "2027-03-01T09:30:00Z&until=2027-03-01T17:30:00Z",
    ):
        response = await client.get(f"/api/v1/reports/sla/compliance?since={period}", headers=manager.headers)
        first = next(t for t in response.json()["targets"] if t["target"] == "first_response")
        assert (first["met"], first["breached"]) == (1, 1), period
