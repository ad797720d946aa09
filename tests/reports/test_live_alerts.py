"""The dashboard's live list finds an open ticket's breach behind any number of never met clocks of closed
tickets, and leaves the closed tickets out: their clocks are stopped and not read at all, and never met clocks a
closed ticket left running are still read page after page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select

from helpdesk.core.clock import FixedClock
from helpdesk.customers.models import Customer
from helpdesk.reports import alerts as live_list
from helpdesk.reports.alerts import CLOCK_PAGE, alerts_now
from helpdesk.reports.schemas import ReportFilters
from helpdesk.runtime import Runtime
from helpdesk.tickets.escalation import escalate_overdue
from helpdesk.tickets.models import Ticket
from sla.models import TargetStateRow
from sla.targets import TargetState

pytestmark = pytest.mark.integration


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def _closed_tickets_with_old_breaches(runtime: Runtime, count: int, *, stopped: bool = False) -> None:
    """``count`` closed tickets whose first response breached long ago and was never met; ``stopped``: their
    clocks stopped when they were closed, as closing a ticket stores them."""
    async with runtime.sessions() as session, session.begin():
        customer = (await session.scalars(select(Customer.id).limit(1))).one()
        ids = (
            await session.scalars(
                insert(Ticket).returning(Ticket.id),
                [
                    {
                        "subject": f"Old {n}",
                        "status": "closed",
                        "priority": "P3",
                        "channel": "web",
                        "customer_id": customer,
                        "tracking_token": f"old-{n}",
                        "version": 1,
                        "created_at": _at("2026-01-05T09:00:00"),
                        "updated_at": _at("2026-01-09T09:00:00"),
                    }
                    for n in range(count)
                ],
            )
        ).all()
        await session.execute(
            insert(TargetStateRow),
            [
                {
                    "ticket_id": ticket_id,
                    "target": "first_response",
                    "state": TargetState.BREACHED,
                    "target_minutes": 240,
                    "clock_started_at": _at("2026-01-05T09:00:00"),
                    "due_at": _at("2026-01-05T13:00:00") + timedelta(seconds=n),
                    "met_at": None,
                    "breached_at": _at("2026-01-05T13:00:00") + timedelta(seconds=n),
                    "margin_minutes": -60.0,
                    "stopped_at": _at("2026-01-09T09:00:00") if stopped else None,
                }
                for n, ticket_id in enumerate(ids)
            ],
        )


async def _open_breached_ticket(
    client: httpx.AsyncClient, agent: Any, clock: FixedClock, runtime: Runtime
) -> int:
    """A ticket opened through the API on Monday 09:00 and never answered, found breached (since Monday 17:00) by
    the escalation sweep on Tuesday 09:30, where the clock is left; its id."""
    body = {"subject": "Compressor loud", "description": "Very loud", "customer_email": "a@clinic.example"}
    opened = await client.post("/api/v1/tickets", json=body, headers=agent.headers)  # Monday 09:00
    assert opened.status_code == 201, opened.text
    clock.set(_at("2027-03-02T09:30:00"))  # never answered: breached Monday 17:00
    await escalate_overdue(runtime)
    await runtime.queue.drain()
    ticket_id: int = opened.json()["id"]
    return ticket_id


async def test_an_open_breach_is_listed_behind_more_old_closed_breaches_than_a_page(
    client: httpx.AsyncClient, agent: Any, clock: FixedClock, runtime: Runtime
) -> None:
    ticket_id = await _open_breached_ticket(client, agent, clock, runtime)
    await _closed_tickets_with_old_breaches(runtime, CLOCK_PAGE + 100)

    now = clock.now()
    alerts = await alerts_now(runtime, ReportFilters(since=now - timedelta(days=7), until=now))

    assert [(a.ticket_id, a.clock.state) for a in alerts] == [(ticket_id, "breached")]


async def test_an_open_breach_is_listed_behind_more_stopped_breaches_of_closed_tickets_than_are_ever_read(
    client: httpx.AsyncClient,
    agent: Any,
    clock: FixedClock,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The bound on pages read, 20,000 clocks, cut to 400 so that a few hundred old breaches are more.
    monkeypatch.setattr(live_list, "MAX_CLOCK_PAGES", 2)
    ticket_id = await _open_breached_ticket(client, agent, clock, runtime)
    await _closed_tickets_with_old_breaches(runtime, 2 * CLOCK_PAGE + 100, stopped=True)

    now = clock.now()
    listed = await alerts_now(runtime, ReportFilters(since=now - timedelta(days=7), until=now))

    assert [(a.ticket_id, a.clock.state) for a in listed] == [(ticket_id, "breached")]
