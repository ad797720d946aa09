"""Canned responses: kept on their own page, inserted into the reply box with one click (no JavaScript)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration


async def test_an_agent_keeps_a_personal_response_and_uses_it_in_a_reply(
    client: httpx.AsyncClient, agent: Any, open_ticket: Any, sign_in: Any
) -> None:
    ticket = await open_ticket(agent.headers, customer_email="carla@example.com")
    me = await sign_in("agent")
    assert (await client.get("/agent/canned")).status_code == 200
    empty = await client.post("/agent/canned", data={"_csrf": me.csrf, "title": "", "body": "x"})
    assert empty.status_code == 422
    assert 'id="new-title-error">at least 1 characters</p>' in empty.text
    shared = await client.post(
        "/agent/canned", data={"_csrf": me.csrf, "title": "Hi", "body": "x", "shared": "yes"}
    )
    assert shared.status_code == 422
    assert 'id="new-shared-error">only managers and admins keep shared responses</p>' in shared.text
    made = await client.post(
        "/agent/canned",
        data={
            "_csrf": me.csrf,
            "title": "Restart",
            "body": "Please restart the <printer>.",
            "language": "en",
        },
    )
    assert made.status_code == 303

    page = await client.get(f"/agent/tickets/{ticket['id']}")
    [link] = [part.split('"')[0] for part in page.text.split('class="canned-use" href="')[1:]]
    assert link.startswith(f"/agent/tickets/{ticket['id']}?canned=")
    filled = await client.get(link)
    assert (
        '<textarea id="body" name="body" rows="6" required>Please restart the &lt;printer&gt;.</textarea>'
        in (filled.text)
    )


async def test_a_manager_shares_a_response_and_another_agents_personal_one_stays_hidden(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    boss = await sign_in("manager")
    await client.post(
        "/agent/canned", data={"_csrf": boss.csrf, "title": "Desk hello", "body": "Hello!", "shared": "yes"}
    )
    await client.post("/agent/canned", data={"_csrf": boss.csrf, "title": "Mine only", "body": "secret"})
    await sign_in("agent")
    listed = (await client.get("/agent/canned")).text
    assert "Desk hello" in listed
    assert "Mine only" not in listed
    await sign_in("technician")
    assert (await client.get("/agent/canned")).status_code == 403
