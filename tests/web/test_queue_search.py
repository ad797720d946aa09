"""The queue's text search: words anywhere in the subject, whatever their case, literally (``%`` and ``_`` are
not wildcards), or a ticket reference."""

from __future__ import annotations

from typing import Any

import httpx


async def _open(client: httpx.AsyncClient, headers: dict[str, str], subject: str) -> int:
    body = {"subject": subject, "description": "x", "customer_email": "carla@example.com"}
    response = await client.post("/api/v1/tickets", json=body, headers=headers)
    assert response.status_code == 201, response.text
    ticket_id: int = response.json()["id"]
    return ticket_id


async def _found(client: httpx.AsyncClient, query: str) -> set[int]:
    page = await client.get("/agent", params={"q": query})
    assert page.status_code == 200
    return {int(part.split('"', 1)[0]) for part in page.text.split('<tr data-id="')[1:]}


async def test_search_finds_words_anywhere_in_the_subject_whatever_their_case(
    client: httpx.AsyncClient, agent: Any, sign_in: Any
) -> None:
    printer = await _open(client, agent.headers, "The office Printer JAMS on floor 2")
    await _open(client, agent.headers, "VPN drops every few minutes")
    await sign_in("agent")
    assert await _found(client, "printer jams") == {printer}
    assert await _found(client, "PRINTER") == {printer}


async def test_search_takes_percent_and_underscore_literally(
    client: httpx.AsyncClient, agent: Any, sign_in: Any
) -> None:
    cpu = await _open(client, agent.headers, "Server at 100% CPU")
    await _open(client, agent.headers, "Server at 1000 users")
    snake = await _open(client, agent.headers, "Field user_name is empty")
    await _open(client, agent.headers, "Field username is empty")
    await sign_in("agent")
    assert await _found(client, "100%") == {cpu}
    assert await _found(client, "user_name") == {snake}


async def test_search_by_reference_finds_the_ticket(
    client: httpx.AsyncClient, agent: Any, sign_in: Any
) -> None:
    wanted = await _open(client, agent.headers, "Monitor flickers")
    await _open(client, agent.headers, "Keyboard missing keys")
    await sign_in("agent")
    assert wanted in await _found(client, f"HD-{wanted}")


async def test_a_phrase_is_found_only_where_its_words_stand_together(
    client: httpx.AsyncClient, agent: Any, sign_in: Any
) -> None:
    together = await _open(client, agent.headers, "Error 4711 after the update")
    await _open(client, agent.headers, "4711 units ordered, an error on the invoice")
    await sign_in("agent")
    assert await _found(client, "ERROR 4711") == {together}
