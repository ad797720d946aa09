"""Live events reach subscribers; a stale edit becomes a readable choice; customers reply and rate."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import msgspec
from litestar import Litestar
from litestar.channels import ChannelsPlugin

from helpdesk.core.live import TICKETS_CHANNEL, TicketEvent
from helpdesk.runtime import Runtime


async def test_a_new_ticket_is_published_to_live_subscribers(
    app: Litestar, client: httpx.AsyncClient, agent: Any
) -> None:
    channels = app.plugins.get(ChannelsPlugin)
    async with channels.start_subscription([TICKETS_CHANNEL]) as subscriber:
        response = await client.post(
            "/api/v1/tickets",
            json={"subject": "Live", "description": "x", "customer_email": "live@example.com"},
            headers=agent.headers,
        )
        assert response.status_code == 201

        async def first() -> bytes:
            async for message in subscriber.iter_events():
                return message
            raise AssertionError("no event")

        event = msgspec.json.decode(await asyncio.wait_for(first(), 5), type=TicketEvent)
    assert event == TicketEvent(kind="created", ticket_id=response.json()["id"])


async def test_a_stale_edit_shows_what_changed_and_reapplies_on_request(
    client: httpx.AsyncClient, agent: Any, sign_in: Any
) -> None:
    created = await client.post(
        "/api/v1/tickets",
        json={"subject": "Stale", "description": "x", "customer_email": "s@example.com"},
        headers=agent.headers,
    )
    ticket = created.json()
    staff = await sign_in("agent")
    page = await client.get(f"/agent/tickets/{ticket['id']}")
    loaded_at = re.search(r'name="loaded_at" value="([^"]+)"', page.text)
    assert loaded_at
    # Someone else changes the priority meanwhile.
    other = await client.patch(
        f"/api/v1/tickets/{ticket['id']}",
        json={"version": ticket["version"], "priority": "P1"},
        headers=agent.headers,
    )
    assert other.status_code == 200
    form = {
        "_csrf": staff.csrf,
        "version": str(ticket["version"]),
        "loaded_at": loaded_at.group(1),
        "status": "pending_customer",
        "shown_status": "new",
        "priority": "P3",
        "shown_priority": "P3",
    }
    stale = await client.post(f"/agent/tickets/{ticket['id']}/update", data=form)
    assert stale.status_code == 409
    assert "Someone else changed this ticket" in stale.text
    assert "P3 → P1" in stale.text
    reapply = re.search(r'<section class="conflict".*?</section>', stale.text, re.DOTALL)
    assert reapply
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', reapply.group(0)))
    done = await client.post(f"/agent/tickets/{ticket['id']}/update", data=fields)
    assert done.status_code == 303, done.text
    after = (await client.get(f"/api/v1/tickets/{ticket['id']}", headers=agent.headers)).json()
    assert (after["status"], after["priority"]) == ("pending_customer", "P1")


async def test_customer_replies_through_the_tracking_link_and_rates_the_resolved_request(
    client: httpx.AsyncClient, agent: Any, runtime: Runtime
) -> None:
    created = (
        await client.post(
            "/api/v1/tickets",
            json={"subject": "Rate me", "description": "x", "customer_email": "r@example.com"},
            headers=agent.headers,
        )
    ).json()
    token = created["tracking_url"].rsplit("/", 1)[1]
    page = await client.get(f"/track/{token}")
    csrf = re.search(r'name="_csrf" value="([^"]+)"', page.text)
    assert csrf
    assert "How did we do?" not in page.text
    sent = await client.post(
        f"/track/{token}/reply",
        data={"_csrf": csrf.group(1), "body": "It happens again"},
        files={"x": ("", b"")},
    )
    assert sent.status_code == 303, sent.text
    resolved = await client.patch(
        f"/api/v1/tickets/{created['id']}",
        json={"version": created["version"], "status": "resolved"},
        headers=agent.headers,
    )
    assert resolved.status_code == 200, resolved.text
    page = await client.get(f"/track/{token}")
    assert "It happens again" in page.text
    assert "How did we do?" in page.text
    rated = await client.post(f"/track/{token}/rate", data={"_csrf": csrf.group(1), "score": "5"})
    assert rated.status_code == 303
    page = await client.get(f"/track/{token}")
    assert 'value="5" aria-pressed="true"' in page.text
    audit = (await client.get(f"/api/v1/tickets/{created['id']}", headers=agent.headers)).json()["audit"]
    assert any(a["field"] == "satisfaction" and a["new_value"] == "5" for a in audit)
