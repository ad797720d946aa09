"""The knowledge base on the pages: portal article pages with feedback, and suggested articles on the agent's
ticket page with one-click insert into the reply."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

AUTOCLAVE = {
    "title": "Autoclave shows error E-104",
    "summary": "Check the door seal, then descale.",
    "body": "E-104 means the chamber did not reach pressure. Check the **door seal**.",
    "status": "published",
}
INTERNAL = {
    "title": "Reset the autoclave service PIN",
    "body": "Use PIN 4711.",
    "status": "published",
    "visibility": "internal",
}


async def article(client, headers, **fields):  # type: ignore[no-untyped-def]
    response = await client.post("/api/v1/kb/articles", json=fields, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_portal_article_page_shows_a_public_article_and_hides_an_internal_one(client, agent):  # type: ignore[no-untyped-def]
    public = await article(client, agent.headers, **AUTOCLAVE)
    internal = await article(client, agent.headers, **INTERNAL)
    page = await client.get(f"/portal/kb/{public['id']}")
    assert page.status_code == 200
    assert "<strong>door seal</strong>" in page.text
    assert (await client.get(f"/portal/kb/{internal['id']}")).status_code == 404


async def test_solved_button_counts_a_deflection_without_a_ticket(client, agent):  # type: ignore[no-untyped-def]
    import re

    public = await article(client, agent.headers, **AUTOCLAVE)
    page = await client.get(f"/portal/kb/{public['id']}")
    token = re.search(r'name="_csrf" value="([^"]+)"', page.text)
    assert token
    done = await client.post(
        f"/portal/kb/{public['id']}/feedback", data={"_csrf": token.group(1), "answer": "solved"}
    )
    assert done.status_code in (200, 201)
    assert "no request needed" in done.text
    counts = (await client.get(f"/api/v1/kb/articles/{public['id']}", headers=agent.headers)).json()["counts"]
    assert counts["deflections"] == 1


async def test_new_request_form_asks_for_suggestions_while_typing(client):  # type: ignore[no-untyped-def]
    page = await client.get("/")
    assert 'id="kb-suggestions"' in page.text
    assert "/static/kb.js" in page.text
    assert (await client.get("/static/kb.js")).status_code == 200


async def test_agent_inserts_a_suggested_article_link_into_the_reply_and_the_link_is_counted(  # type: ignore[no-untyped-def]
    client, agent, sign_in, runtime
):
    public = await article(client, agent.headers, **AUTOCLAVE)
    ticket = (
        await client.post(
            "/api/v1/tickets",
            json={
                "subject": "Autoclave error E-104",
                "description": "The autoclave shows E-104 after five minutes.",
                "customer_email": "olga@clinic.example",
            },
            headers=agent.headers,
        )
    ).json()
    await runtime.queue.drain()
    staff = await sign_in("agent")
    page = await client.get(f"/agent/tickets/{ticket['id']}")
    assert "Autoclave shows error E-104" in page.text
    assert f"/agent/tickets/{ticket['id']}/articles/{public['id']}/insert" in page.text
    inserted = await client.post(
        f"/agent/tickets/{ticket['id']}/articles/{public['id']}/insert",
        data={"_csrf": staff.csrf, "body": "Hello Olga,", "what": "link"},
    )
    assert inserted.status_code == 200, inserted.text[:500]
    assert f"Hello Olga,\n\nhttp://testserver.local/portal/kb/{public['id']}" in inserted.text
    counts = (await client.get(f"/api/v1/kb/articles/{public['id']}", headers=agent.headers)).json()["counts"]
    assert counts["links"] == 1
