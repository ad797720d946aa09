"""Suggestions on new tickets, agents' links into replies, and every process's index following edits."""

from __future__ import annotations

import asyncio

import pytest
from kbkit import PRINTER, VPN, create

from knowledge_base.live_index import EXTRAS_KEY, LiveIndex, live_index

pytestmark = pytest.mark.integration


async def test_a_new_ticket_gets_its_suggestions_stored_with_scores_and_an_insert_payload(
    client, runtime, agent, customer_session, open_ticket
) -> None:  # type: ignore[no-untyped-def]
    article = await create(client, agent.headers, **PRINTER)
    internal = await create(client, agent.headers, **VPN)
    customer = await customer_session()
    ticket = await open_ticket(
        customer.headers, subject="Printer error E1042", description="The printer shows E-1042 and stops."
    )
    off_topic = await open_ticket(customer.headers, subject="Weather", description="Is it sunny in Paris?")
    await runtime.queue.drain()

    response = await client.get(f"/api/v1/kb/tickets/{ticket['id']}/suggestions", headers=agent.headers)
    assert response.status_code == 200, response.text
    [suggestion] = response.json()
    assert suggestion["article_id"] == article["id"]
    assert suggestion["rank"] == 1
    assert 0 < suggestion["score"] <= 1
    assert suggestion["insert"]["link"] == f"http://testserver.local/portal/kb/{article['id']}"
    assert suggestion["insert"]["text"].startswith(
        "Printer shows error E-1042\n\nWhen the printer shows E-1042"
    )
    assert internal["id"] != suggestion["article_id"]

    nothing = await client.get(f"/api/v1/kb/tickets/{off_topic['id']}/suggestions", headers=agent.headers)
    assert nothing.json() == []
    forbidden = await client.get(f"/api/v1/kb/tickets/{ticket['id']}/suggestions", headers=customer.headers)
    assert forbidden.status_code == 403

    # The job is idempotent: running it again stores the same single row.
    from knowledge_base.jobs import suggest_for_ticket_job

    assert await suggest_for_ticket_job({"runtime": runtime}, ticket["id"]) == 1
    again = await client.get(f"/api/v1/kb/tickets/{ticket['id']}/suggestions", headers=agent.headers)
    assert again.json() == response.json()


async def test_an_agent_linking_an_article_is_counted_once_per_ticket_and_boosts_it(
    client, runtime, agent, customer_session, open_ticket
) -> None:  # type: ignore[no-untyped-def]
    article = await create(client, agent.headers, **PRINTER)
    customer = await customer_session()
    ticket = await open_ticket(customer.headers, subject="Printer E1042")
    path = f"/api/v1/kb/articles/{article['id']}/linked"
    first = await client.post(path, json={"ticket_id": ticket["id"]}, headers=agent.headers)
    second = await client.post(path, json={"ticket_id": ticket["id"]}, headers=agent.headers)
    assert (first.json(), second.json()) == ({"counted": True}, {"counted": False})
    missing = await client.post(path, json={"ticket_id": 10**9}, headers=agent.headers)
    assert missing.status_code == 404
    assert (
        await client.post(path, json={"ticket_id": ticket["id"]}, headers=customer.headers)
    ).status_code == 403

    from knowledge_base.jobs import refresh_kb_boosts_job

    assert await refresh_kb_boosts_job({"runtime": runtime}) == 1
    read = await client.get(f"/api/v1/kb/articles/{article['id']}", headers=agent.headers)
    assert read.json()["counts"]["links"] == 1


async def test_another_app_instance_on_the_same_database_sees_an_edit_without_restart(
    client, agent, make_client
) -> None:  # type: ignore[no-untyped-def]
    async with make_client() as (other, other_runtime):
        index = live_index(other_runtime)
        await index.ready.wait()
        index.ttl_seconds = 0.2

        article = await create(client, agent.headers, **PRINTER)
        await asyncio.sleep(0.3)
        found = await other.get("/api/v1/kb/suggest", params={"q": "printer E-1042"})
        assert [s["id"] for s in found.json()] == [article["id"]]

        await client.patch(
            f"/api/v1/kb/articles/{article['id']}", json={"visibility": "internal"}, headers=agent.headers
        )
        await asyncio.sleep(0.3)
        assert (await other.get("/api/v1/kb/suggest", params={"q": "printer E-1042"})).json() == []

        await client.patch(
            f"/api/v1/kb/articles/{article['id']}",
            json={
                "visibility": "public",
                "title": "Scanner shows error S-77",
                "summary": "",
                "body": "Lamp.",
            },
            headers=agent.headers,
        )
        await asyncio.sleep(0.3)
        assert (await other.get("/api/v1/kb/suggest", params={"q": "printer E-1042"})).json() == []
        renamed = await other.get("/api/v1/kb/suggest", params={"q": "scanner S-77"})
        assert [s["title"] for s in renamed.json()] == ["Scanner shows error S-77"]

        await client.delete(f"/api/v1/kb/articles/{article['id']}", headers=agent.headers)
        await asyncio.sleep(0.3)
        assert (await other.get("/api/v1/kb/suggest", params={"q": "scanner S-77"})).json() == []


async def test_the_index_is_built_at_start_up_from_published_articles_only(
    client, agent, make_client
) -> None:  # type: ignore[no-untyped-def]
    published = await create(client, agent.headers, **PRINTER)
    await create(client, agent.headers, **{**PRINTER, "title": "Draft printer note", "status": "draft"})
    async with make_client() as (_, other_runtime):
        index = other_runtime.extras[EXTRAS_KEY]
        assert isinstance(index, LiveIndex)
        await index.ready.wait()
        assert set(index.articles) == {str(published["id"])}
