"""No N+1 queries: the queue page and the ticket page cost a fixed, small number of SQL statements whatever
the number of tickets on the page or messages in the conversation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event

from helpdesk.runtime import Runtime

QUEUE_PAGE_BOUND = 16
TICKET_PAGE_BOUND = 26


async def settle(runtime: Runtime) -> None:
    """Let background jobs (acknowledgements, suggestions) finish, so only the page's queries are counted."""
    drain = getattr(runtime.queue, "drain", None)
    if drain is not None:
        await drain()


@contextmanager
def counted(runtime: Runtime) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(runtime.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(runtime.engine.sync_engine, "before_cursor_execute", record)


async def _open(client: httpx.AsyncClient, headers: dict[str, str], n: int) -> list[int]:
    ids = []
    for i in range(n):
        response = await client.post(
            "/api/v1/tickets",
            json={
                "subject": f"Case {i}",
                "description": "x",
                "customer_email": f"c{i}@example.com",
                "tags": ["a"],
            },
            headers=headers,
        )
        assert response.status_code == 201
        ids.append(response.json()["id"])
    return ids


async def test_queue_page_query_count_does_not_grow_with_the_page(
    client: httpx.AsyncClient, runtime: Runtime, agent: Any, sign_in: Any
) -> None:
    await _open(client, agent.headers, 2)
    await sign_in("agent")
    await settle(runtime)
    with counted(runtime) as few:
        assert (await client.get("/agent")).status_code == 200
    await _open(client, agent.headers, 20)
    await settle(runtime)
    with counted(runtime) as many:
        page = await client.get("/agent")
    assert page.text.count('<tr data-id="') == 22
    assert len(many) == len(few), many
    assert len(many) <= QUEUE_PAGE_BOUND, many


async def test_ticket_page_query_count_does_not_grow_with_the_conversation(
    client: httpx.AsyncClient, runtime: Runtime, agent: Any, sign_in: Any
) -> None:
    short, long = await _open(client, agent.headers, 2)
    for i in range(10):
        reply = await client.post(
            f"/api/v1/tickets/{long}/messages",
            json={"body": f"note {i}", "kind": "internal_note" if i % 2 else "public_reply"},
            headers=agent.headers,
        )
        assert reply.status_code == 201
    await sign_in("agent")
    await settle(runtime)
    with counted(runtime) as few:
        assert (await client.get(f"/agent/tickets/{short}")).status_code == 200
    with counted(runtime) as many:
        assert (await client.get(f"/agent/tickets/{long}")).status_code == 200
    assert len(many) == len(few), many
    assert len(many) <= TICKET_PAGE_BOUND, many
