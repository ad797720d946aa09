"""A resolved or closed ticket's SLA clocks are stopped (``stopped_at`` on each stored clock) and keep the state
they stopped in; a customer's reply that reopens the ticket sets them running again. Driven through the API
with a fixed clock (default policy: Mon–Fri 09–17 UTC, P3 first response 480 business minutes)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from helpdesk.core.clock import FixedClock
from helpdesk.runtime import Runtime
from sla.models import TargetStateRow

pytestmark = pytest.mark.integration

# Opened Monday 09:00, never answered: the first response breached Monday 17:00.
BREACHED_ON_TUESDAY = datetime(2027, 3, 2, 9, 30, tzinfo=UTC)


async def _set_status(client: httpx.AsyncClient, agent: Any, ticket_id: int, status: str) -> None:
    current = (await client.get(f"/api/v1/tickets/{ticket_id}", headers=agent.headers)).json()
    response = await client.patch(
        f"/api/v1/tickets/{ticket_id}",
        json={"version": current["version"], "status": status},
        headers=agent.headers,
    )
    assert response.status_code == 200, response.text


async def _clocks(runtime: Runtime, ticket_id: int) -> dict[str, TargetStateRow]:
    async with runtime.sessions() as session:
        rows = await session.scalars(select(TargetStateRow).where(TargetStateRow.ticket_id == ticket_id))
        return {row.target: row for row in rows}


async def test_closing_a_breached_ticket_stops_its_clocks_and_the_breach_stays_a_breach(
    client: httpx.AsyncClient, agent: Any, clock: FixedClock, runtime: Runtime, open_ticket: Any
) -> None:
    ticket = await open_ticket(agent.headers, customer_email="olga@clinic.example")
    clock.set(BREACHED_ON_TUESDAY)

    await _set_status(client, agent, ticket["id"], "closed")

    clocks = await _clocks(runtime, ticket["id"])
    assert {target: (c.state, c.met_at, c.stopped_at) for target, c in clocks.items()} == {
        "first_response": ("breached", None, BREACHED_ON_TUESDAY),
        "resolution": ("met", BREACHED_ON_TUESDAY, BREACHED_ON_TUESDAY),
    }


async def test_a_customer_reply_reopening_a_resolved_ticket_sets_its_clocks_running_again(
    client: httpx.AsyncClient,
    agent: Any,
    clock: FixedClock,
    runtime: Runtime,
    open_ticket: Any,
    customer_session: Any,
) -> None:
    ticket = await open_ticket(agent.headers, customer_email="olga@clinic.example")
    clock.set(BREACHED_ON_TUESDAY)
    await _set_status(client, agent, ticket["id"], "resolved")
    assert {c.stopped_at for c in (await _clocks(runtime, ticket["id"])).values()} == {BREACHED_ON_TUESDAY}
    customer = await customer_session("olga@clinic.example")
    clock.set(datetime(2027, 3, 2, 10, 0, tzinfo=UTC))

    reply = await client.post(
        f"/api/v1/tickets/{ticket['id']}/messages", json={"body": "Still loud"}, headers=customer.headers
    )

    assert reply.status_code == 201, reply.text
    clocks = await _clocks(runtime, ticket["id"])
    # The rules resume resolution on reopening (the half hour resolved does not count).
    assert {target: (c.state, c.stopped_at) for target, c in clocks.items()} == {
        "first_response": ("breached", None),
        "resolution": ("running", None),
    }
