"""The dashboard's figures as its CSV exports give them: compliance per day of the period (each clock in the day
it finished) and the time-to-first-response bars (counted by the database)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from helpdesk.core.clock import FixedClock
from helpdesk.runtime import Runtime
from helpdesk.tickets.escalation import escalate_overdue

pytestmark = pytest.mark.integration


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def _open(client: httpx.AsyncClient, agent: Any, email: str) -> int:
    body = {"subject": "Compressor loud", "description": "Very loud", "customer_email": email}
    response = await client.post("/api/v1/tickets", json=body, headers=agent.headers)
    assert response.status_code == 201, response.text
    ticket_id: int = response.json()["id"]
    return ticket_id


async def _csv(client: httpx.AsyncClient, chart: str) -> list[list[str]]:
    response = await client.get(f"/manager/export/{chart}.csv", params={"days": "7"})
    assert response.status_code == 200, response.text
    return list(csv.reader(io.StringIO(response.text)))


async def test_compliance_counts_each_clock_on_the_day_it_finished_and_times_fall_in_their_bars(
    client: httpx.AsyncClient, clock: FixedClock, runtime: Runtime, agent: Any, sign_in: Any
) -> None:
    answered = await _open(client, agent, "a@clinic.example")  # Monday 09:00
    await _open(client, agent, "b@clinic.example")  # never answered: breached Monday 17:00
    clock.set(_at("2027-03-01T11:00:00"))
    reply = await client.post(
        f"/api/v1/tickets/{answered}/messages", json={"body": "Done"}, headers=agent.headers
    )
    assert reply.status_code == 201, reply.text
    clock.set(_at("2027-03-02T12:00:00"))  # the day buckets end at 12:00:01: Monday 11:00 and 17:00 split
    await escalate_overdue(runtime)
    await runtime.queue.drain()
    await sign_in("manager")

    compliance = await _csv(client, "compliance")
    first_response = [row[3:5] for row in compliance[1:] if row[2] == "first_response"]
    assert len(first_response) == 7
    assert first_response[-2:] == [["1", "0"], ["0", "1"]]  # met at 11:00; breached at 17:00 (after 12:00:01)
    assert first_response[:-2] == [["0", "0"]] * 5

    times = await _csv(client, "times")
    assert times[0] == ["hours", "first_response", "resolution"]
    assert [row[1] for row in times[1:]] == ["0", "1", "0", "0", "0", "0"]  # answered after 2 hours
