"""The dashboard's figures as its CSV exports give them: compliance per day of the period (each clock in the day
it finished), a whole year of it in the reader's calendar months, and the time-to-first-response bars (counted by
the database)."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from itertools import pairwise
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
    clock.set(_at("2027-03-02T12:00:00"))  # Tuesday noon: the period ends within Tuesday
    await escalate_overdue(runtime)
    await runtime.queue.drain()
    await sign_in("manager")

    compliance = await _csv(client, "compliance")
    first_response = [row[3:5] for row in compliance[1:] if row[2] == "first_response"]
    # Eight days: last Tuesday from noon, Wednesday to Monday whole, this Tuesday until noon.
    assert len(first_response) == 8
    assert first_response[-2:] == [["1", "1"], ["0", "0"]]  # Monday: met at 11:00, breached at 17:00
    assert first_response[:-2] == [["0", "0"]] * 6

    times = await _csv(client, "times")
    assert times[0] == ["hours", "first_response", "resolution"]
    assert [row[1] for row in times[1:]] == ["0", "1", "0", "0", "0", "0"]  # answered after 2 hours


@pytest.mark.parametrize(
    ("language", "labels"),
    [
        ("en", ["Mar 2026", "Apr", "Dec", "Jan 2027", "Feb", "Mar"]),
        ("ru", ["март 2026", "апр.", "янв. 2027"]),
    ],
)
async def test_a_year_of_compliance_is_shown_whole_in_months_of_the_readers_zone(
    client: httpx.AsyncClient, clock: FixedClock, sign_in: Any, language: str, labels: list[str]
) -> None:
    await sign_in("manager", language=language, time_zone="Europe/Moscow")
    response = await client.get("/manager/export/compliance.csv", params={"days": "365"})
    assert response.status_code == 200, response.text
    periods = sorted({(row[0], row[1]) for row in list(csv.reader(io.StringIO(response.text)))[1:]})
    until = clock.now() + timedelta(seconds=1)
    assert periods[0][0] == (until - timedelta(days=365)).isoformat()  # the period's first day is shown
    assert periods[-1][1] == until.isoformat()
    assert all(a[1] == b[0] for a, b in pairwise(periods))
    assert len(periods) == 13
    assert periods[1][0] == "2026-03-31T21:00:00+00:00"  # April from midnight in Moscow

    page = await client.get("/manager", params={"days": "365"})
    assert page.status_code == 200, page.text
    chart = page.text.split('id="c-compliance"', 1)[-1].split("</svg>", 1)[0]
    shown = re.findall(r"<text[^>]*>([^<]+)</text>", chart)
    assert all(label in shown for label in labels), " | ".join(shown)
