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
# The field service panel (work orders, asset, contracts, skills) adds a fixed handful.
# 30, plus the suggested-articles panel (one session, one query).
TICKET_PAGE_BOUND = 32
DISPATCH_PAGE_BOUND = 12
# The session (its BEGIN, the session and its user), the categories and their article counts.
KB_CATEGORIES_PAGE_BOUND = 6


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


async def test_ticket_page_with_work_orders_and_the_dispatch_page_cost_a_fixed_number_of_queries(
    client: httpx.AsyncClient, runtime: Runtime, agent: Any, admin: Any, make_staff: Any, sign_in: Any
) -> None:
    from fieldweb import DAY, SITE, make_skill, make_technician

    await make_skill(client, admin, "boiler")
    await make_technician(client, admin, make_staff)
    one, three = await _open(client, agent.headers, 2)
    for ticket_id, n in ((one, 1), (three, 3)):
        for _ in range(n):
            body = {"ticket_id": ticket_id, "location": SITE, "duration_minutes": 30}
            made = await client.post("/api/v1/dispatch/work-orders", json=body, headers=agent.headers)
            assert made.status_code == 201, made.text
    await client.post(
        "/api/v1/dispatch/plans", json={"day": DAY, "time_limit_seconds": 0}, headers=agent.headers
    )
    await sign_in("agent")
    await settle(runtime)
    with counted(runtime) as few:
        assert (await client.get(f"/agent/tickets/{one}")).status_code == 200
    with counted(runtime) as many:
        page = await client.get(f"/agent/tickets/{three}")
    assert page.text.count("<strong>WO-") == 3
    assert len(many) == len(few), many
    assert len(many) <= TICKET_PAGE_BOUND, many
    with counted(runtime) as board:
        page = await client.get(f"/agent/dispatch?day={DAY}")
    assert page.text.count('<tr id="wo-') == 4
    assert len(board) <= DISPATCH_PAGE_BOUND, board


async def test_knowledge_base_categories_page_costs_a_fixed_number_of_queries(
    client: httpx.AsyncClient, runtime: Runtime, sign_in: Any
) -> None:
    admin = await sign_in("admin")
    page = "/admin/kb-categories"
    await client.post(page, data={"_csrf": admin.csrf, "name": "Hardware", "parent_id": ""})
    with counted(runtime) as few:
        assert (await client.get(page)).status_code == 200
    for name in ("Software", "Network", "Printers", "Phones", "Accounts"):
        await client.post(page, data={"_csrf": admin.csrf, "name": name, "parent_id": ""})
    with counted(runtime) as many:
        listed = await client.get(page)
    assert listed.text.count('<tr id="c') == 6
    assert len(many) == len(few), many
    assert len(many) <= KB_CATEGORIES_PAGE_BOUND, many
