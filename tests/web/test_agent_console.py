"""The agent console through its pages: sign-in, the queue, the ticket page, bulk actions, saved views."""

from __future__ import annotations

import re
from typing import Any

import httpx

from helpdesk.runtime import Runtime


async def _ticket(client: httpx.AsyncClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {
        "subject": "Printer jams",
        "description": "Paper jams on page 2",
        "customer_email": "ann@example.com",
    }
    response = await client.post("/api/v1/tickets", json={**body, **fields}, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_pages_send_anonymous_people_to_the_sign_in_page_and_back(client: httpx.AsyncClient) -> None:
    response = await client.get("/agent?view=mine")
    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/login?next=/agent%3Fview%3Dmine"


async def test_wrong_password_shows_a_message_on_the_form(client: httpx.AsyncClient, sign_in: Any) -> None:
    staff = await sign_in("agent")
    client.cookies.clear()
    form = await client.get("/login")
    token = re.search(r'name="_csrf" value="([^"]+)"', form.text)
    assert token
    response = await client.post(
        "/login", data={"_csrf": token.group(1), "email": staff.email, "password": "nope", "next": ""}
    )
    assert response.status_code == 400
    assert "Wrong e-mail or password" in response.text


async def test_login_without_csrf_token_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/login", data={"email": "a@b.c", "password": "x"})
    assert response.status_code == 403


async def test_agent_signs_in_sees_the_queue_opens_a_ticket_and_replies(
    client: httpx.AsyncClient, sign_in: Any, agent: Any, runtime: Runtime
) -> None:
    ticket = await _ticket(client, agent.headers, subject="VPN is down")
    staff = await sign_in("agent", name="Queue Agent")
    queue = await client.get("/agent")
    assert queue.status_code == 200
    assert "VPN is down" in queue.text
    assert 'class="countdown' in queue.text
    page = await client.get(f"/agent/tickets/{ticket['id']}")
    assert page.status_code == 200
    assert "Paper jams on page 2" in page.text
    assert 'id="suggested-articles"' in page.text
    sent = await client.post(
        f"/agent/tickets/{ticket['id']}/reply",
        data={"_csrf": staff.csrf, "body": "Restarted the concentrator", "kind": "public_reply"},
    )
    assert sent.status_code == 303, sent.text
    detail = await client.get(f"/api/v1/tickets/{ticket['id']}", headers=agent.headers)
    assert detail.json()["status"] == "open"
    assert detail.json()["messages"][-1]["body_text"] == "Restarted the concentrator"
