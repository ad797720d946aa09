"""The ticket lifecycle through the HTTP API: open, work, reply, reopen, close."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


async def open_ticket(client, agent, **extra):  # type: ignore[no-untyped-def]
    body = {
        "subject": "Printer jams",
        "description": "Paper jams on page 2",
        "customer_email": "anna@example.com",
        "customer_name": "Anna",
        **extra,
    }
    response = await client.post("/api/v1/tickets", json=body, headers=agent.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_agent_opens_phone_ticket_for_new_customer(client, agent):  # type: ignore[no-untyped-def]
    ticket = await open_ticket(client, agent, channel="phone", impact="high", urgency="high")
    assert ticket["reference"] == f"HD-{ticket['id']}"
    assert ticket["status"] == "new"
    assert ticket["priority"] == "P1"
    assert ticket["channel"] == "phone"
    assert ticket["tracking_url"].startswith("http://testserver.local/track/")


async def test_first_public_reply_opens_ticket_and_records_first_response(client, agent):  # type: ignore[no-untyped-def]
    ticket = await open_ticket(client, agent)
    response = await client.post(
        f"/api/v1/tickets/{ticket['id']}/messages", json={"body": "Try tray 2"}, headers=agent.headers
    )
    assert response.status_code == 201, response.text
    updated = response.json()["ticket"]
    assert updated["status"] == "open"
    assert updated["first_responded_at"] is not None


async def test_closed_ticket_cannot_be_reopened_by_an_agent(client, agent):  # type: ignore[no-untyped-def]
    ticket = await open_ticket(client, agent)
    closed = await client.patch(
        f"/api/v1/tickets/{ticket['id']}",
        json={"version": ticket["version"], "status": "closed"},
        headers=agent.headers,
    )
    assert closed.status_code == 200, closed.text
    response = await client.patch(
        f"/api/v1/tickets/{ticket['id']}",
        json={"version": closed.json()["version"], "status": "open"},
        headers=agent.headers,
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_transition"
    assert response.json()["field"] == "status"


async def test_stale_version_gets_409_that_says_so(client, agent):  # type: ignore[no-untyped-def]
    ticket = await open_ticket(client, agent)
    first = await client.patch(
        f"/api/v1/tickets/{ticket['id']}",
        json={"version": ticket["version"], "priority": "P2"},
        headers=agent.headers,
    )
    assert first.status_code == 200
    second = await client.patch(
        f"/api/v1/tickets/{ticket['id']}",
        json={"version": ticket["version"], "priority": "P4"},
        headers=agent.headers,
    )
    assert second.status_code == 409
    assert second.json()["code"] == "stale_version"
    assert "changed by someone else" in second.json()["detail"]


async def test_queue_counts_matches_only_up_to_a_cap(client, agent, monkeypatch):  # type: ignore[no-untyped-def]
    from helpdesk.tickets import queries

    monkeypatch.setattr(queries, "COUNT_CAP", 2)
    for index in range(3):
        await open_ticket(client, agent, customer_email=f"c{index}@example.com")
    page = (await client.get("/api/v1/tickets?limit=1", headers=agent.headers)).json()
    assert (page["total"], page["total_capped"], len(page["items"])) == (2, True, 1)
