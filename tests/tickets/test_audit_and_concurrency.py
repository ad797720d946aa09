"""Every change is audited with who and old → new; concurrent edits conflict; customers reopen; bad moves fail."""

from __future__ import annotations

import asyncio

import pytest

pytestmark = pytest.mark.integration


async def patch(client, staff, ticket, **changes):  # type: ignore[no-untyped-def]
    response = await client.patch(
        f"/api/v1/tickets/{ticket['id']}",
        json={"version": ticket["version"], **changes},
        headers=staff.headers,
    )
    assert response.status_code == 200, response.text
    return response.json()


async def audit_of(client, staff, ticket):  # type: ignore[no-untyped-def]
    response = await client.get(f"/api/v1/tickets/{ticket['id']}", headers=staff.headers)
    assert response.status_code == 200, response.text
    return response.json()["audit"]


async def test_each_changed_field_is_audited_with_actor_and_old_and_new_value(
    client, agent, admin, open_ticket
):  # type: ignore[no-untyped-def]
    group = await client.post(
        "/api/v1/groups", json={"name": "Network", "member_ids": [agent.id]}, headers=admin.headers
    )
    ticket = await open_ticket(agent.headers, customer_email="anna@example.com", tags=["vpn"])
    await patch(
        client,
        agent,
        ticket,
        status="pending_internal",
        priority="P1",
        queue_id=group.json()["id"],
        assignee_id=agent.id,
        tags=["vpn", "urgent"],
    )
    changes = {
        (a["field"], a["old_value"], a["new_value"]): a["actor"]
        for a in await audit_of(client, agent, ticket)
    }
    actor = "Alex Agent (agent)"
    assert changes == {
        ("created", None, "new"): actor,
        ("status", "new", "pending_internal"): actor,
        ("priority", "P3", "P1"): actor,
        ("queue_id", None, str(group.json()["id"])): actor,
        ("assignee_id", None, str(agent.id)): actor,
        ("tags", "vpn", "urgent, vpn"): actor,
    }


async def test_an_unchanged_field_leaves_no_audit_row(client, agent, open_ticket):  # type: ignore[no-untyped-def]
    ticket = await open_ticket(agent.headers, customer_email="anna@example.com", priority="P2")
    await patch(client, agent, ticket, priority="P2", tags=[])
    assert [a["field"] for a in await audit_of(client, agent, ticket)] == ["created"]


async def test_an_attachment_is_audited_with_its_file_name_and_uploader(client, agent, open_ticket):  # type: ignore[no-untyped-def]
    ticket = await open_ticket(agent.headers, customer_email="anna@example.com")
    upload = await client.post(
        f"/api/v1/tickets/{ticket['id']}/attachments",
        files={"file": ("trace.log", b"line 1\n", "text/plain")},
        headers=agent.headers,
    )
    assert upload.status_code == 201, upload.text
    [event] = [a for a in await audit_of(client, agent, ticket) if a["field"] == "attachment"]
    assert (event["actor"], event["old_value"], event["new_value"]) == (
        "Alex Agent (agent)",
        None,
        "trace.log",
    )


async def test_a_customers_reopening_message_is_audited_as_the_customer(
    client, agent, customer_session, open_ticket
):  # type: ignore[no-untyped-def]
    customer = await customer_session("boris@example.com")
    ticket = await open_ticket(customer.headers)
    ticket = await patch(client, agent, ticket, status="resolved")
    await client.post(
        f"/api/v1/tickets/{ticket['id']}/messages", json={"body": "still broken"}, headers=customer.headers
    )
    [event] = [a for a in await audit_of(client, agent, ticket) if a["old_value"] == "resolved"]
    assert (event["field"], event["new_value"], event["actor"]) == ("status", "open", "boris (customer)")


async def test_two_concurrent_updates_with_the_same_version_give_one_200_and_one_409(
    client, agent, admin, open_ticket
):  # type: ignore[no-untyped-def]
    ticket = await open_ticket(agent.headers, customer_email="anna@example.com")
    url = f"/api/v1/tickets/{ticket['id']}"
    responses = await asyncio.gather(
        client.patch(url, json={"version": ticket["version"], "priority": "P1"}, headers=agent.headers),
        client.patch(url, json={"version": ticket["version"], "priority": "P4"}, headers=admin.headers),
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 409], [r.text for r in responses]
    winner = next(r for r in responses if r.status_code == 200).json()
    loser = next(r for r in responses if r.status_code == 409).json()
    assert loser["code"] == "stale_version"
    assert loser["field"] == "version"
    current = (await client.get(url, headers=agent.headers)).json()
    assert current["priority"] == winner["priority"]
    assert current["version"] == ticket["version"] + 1
    assert [a["field"] for a in current["audit"]].count("priority") == 1


async def test_many_concurrent_updates_with_the_same_version_let_exactly_one_through(
    client, agent, open_ticket
):  # type: ignore[no-untyped-def]
    ticket = await open_ticket(agent.headers, customer_email="anna@example.com")
    url = f"/api/v1/tickets/{ticket['id']}"
    responses = await asyncio.gather(
        *(
            client.patch(url, json={"version": ticket["version"], "tags": [f"t{i}"]}, headers=agent.headers)
            for i in range(6)
        )
    )
    assert sorted(r.status_code for r in responses) == [200] + [409] * 5, [r.text for r in responses]


@pytest.mark.parametrize("waiting", ["pending_customer", "resolved"])
async def test_a_customer_message_on_a_waiting_ticket_reopens_it(
    client, agent, customer_session, open_ticket, waiting
):  # type: ignore[no-untyped-def]
    customer = await customer_session()
    ticket = await open_ticket(customer.headers)
    ticket = await patch(client, agent, ticket, status=waiting)
    response = await client.post(
        f"/api/v1/tickets/{ticket['id']}/messages", json={"body": "here is the log"}, headers=customer.headers
    )
    assert response.status_code == 201, response.text
    assert response.json()["ticket"]["id"] == ticket["id"]
    assert response.json()["ticket"]["status"] == "open"
    assert response.json()["ticket"]["resolved_at"] is None


async def test_a_customer_message_on_a_closed_ticket_opens_a_new_linked_ticket(
    client, agent, customer_session, open_ticket
):  # type: ignore[no-untyped-def]
    customer = await customer_session()
    ticket = await open_ticket(customer.headers)
    ticket = await patch(client, agent, ticket, status="closed")
    response = await client.post(
        f"/api/v1/tickets/{ticket['id']}/messages", json={"body": "it is back"}, headers=customer.headers
    )
    assert response.status_code == 201, response.text
    follow_up = response.json()["ticket"]
    assert follow_up["id"] != ticket["id"]
    assert follow_up["previous_ticket_id"] == ticket["id"]
    assert follow_up["status"] == "new"
    old = (await client.get(f"/api/v1/tickets/{ticket['id']}", headers=agent.headers)).json()
    assert old["status"] == "closed"
    new = (await client.get(f"/api/v1/tickets/{follow_up['id']}", headers=agent.headers)).json()
    assert [m["body_text"] for m in new["messages"]] == ["it is back"]


async def test_a_customer_message_on_an_open_ticket_keeps_its_status(
    client, agent, customer_session, open_ticket
):  # type: ignore[no-untyped-def]
    customer = await customer_session()
    ticket = await open_ticket(customer.headers)
    ticket = await patch(client, agent, ticket, status="pending_internal")
    response = await client.post(
        f"/api/v1/tickets/{ticket['id']}/messages", json={"body": "any news?"}, headers=customer.headers
    )
    assert response.json()["ticket"]["status"] == "pending_internal"


@pytest.mark.parametrize(
    ("path", "target"),
    [
        (["closed"], "open"),
        (["closed"], "resolved"),
        (["resolved"], "pending_customer"),
        (["open"], "new"),
    ],
)
async def test_an_illegal_status_change_is_422_invalid_transition(client, agent, open_ticket, path, target):  # type: ignore[no-untyped-def]
    ticket = await open_ticket(agent.headers, customer_email="anna@example.com")
    for status in path:
        ticket = await patch(client, agent, ticket, status=status)
    response = await client.patch(
        f"/api/v1/tickets/{ticket['id']}",
        json={"version": ticket["version"], "status": target},
        headers=agent.headers,
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_transition"
    assert response.json()["field"] == "status"
    unchanged = (await client.get(f"/api/v1/tickets/{ticket['id']}", headers=agent.headers)).json()
    assert (unchanged["status"], unchanged["version"]) == (path[-1], ticket["version"])
