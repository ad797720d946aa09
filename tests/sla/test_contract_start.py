"""A contract given a start day begins at midnight of that day in its policy's business calendar's zone, and is
stored as that instant in UTC: a Moscow customer's contract from 2027-03-01 starts at 2027-02-28T21:00Z."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sla.calendar import start_of_local_day

WEEK = {day: ["09:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
TARGETS = {p: {"first_response_minutes": 60, "resolution_minutes": 480} for p in ("P1", "P2", "P3", "P4")}


@pytest.mark.parametrize(
    ("zone", "day", "start"),
    [
        ("Europe/Moscow", date(2027, 3, 1), datetime(2027, 2, 28, 21, 0, tzinfo=UTC)),
        ("UTC", date(2027, 3, 1), datetime(2027, 3, 1, 0, 0, tzinfo=UTC)),
        # Summer time: Berlin is UTC+2 in July, UTC+1 in January.
        ("Europe/Berlin", date(2027, 7, 1), datetime(2027, 6, 30, 22, 0, tzinfo=UTC)),
        ("Europe/Berlin", date(2027, 1, 1), datetime(2026, 12, 31, 23, 0, tzinfo=UTC)),
        ("America/New_York", date(2027, 3, 1), datetime(2027, 3, 1, 5, 0, tzinfo=UTC)),
        # Chile moves its clocks at midnight: on 2026-09-06 local 00:00 does not exist and the day begins at
        # 01:00 (-03), which is 04:00 UTC, the first instant of that day.
        ("America/Santiago", date(2026, 9, 6), datetime(2026, 9, 6, 4, 0, tzinfo=UTC)),
    ],
)
def test_a_day_starts_at_its_first_instant_in_the_zone(zone: str, day: date, start: datetime) -> None:
    assert start_of_local_day(day, ZoneInfo(zone)) == start


async def _created(client: Any, admin: Any, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, headers=admin.headers, json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def moscow_contract(client: Any, admin: Any, **start: str) -> dict[str, Any]:
    """The body of a contract "Clinic 2027" for an organisation under a policy counting in a Europe/Moscow
    calendar (both made here), starting as ``start`` says (``starts_on``, ``valid_from``, ``valid_to``)."""
    calendar = await _created(
        client,
        admin,
        "/api/v1/sla/calendars",
        {"name": "Moscow office", "calendar": {"timezone": "Europe/Moscow", "week": WEEK}},
    )
    policy = await _created(
        client,
        admin,
        "/api/v1/sla/policies",
        {"name": "Moscow terms", "calendar_id": calendar["id"], "targets": TARGETS},
    )
    organisation = await _created(client, admin, "/api/v1/organisations", {"name": "Clinic"})
    return {"name": "Clinic 2027", "policy_id": policy["id"], "organisation_id": organisation["id"], **start}


@pytest.mark.integration
async def test_a_contract_starting_on_a_day_starts_at_midnight_in_its_calendars_zone(client, admin) -> None:  # type: ignore[no-untyped-def]
    body = await moscow_contract(client, admin, starts_on="2027-03-01")

    contract = await _created(client, admin, "/api/v1/sla/contracts", body)

    assert contract["valid_from"] == "2027-02-28T21:00:00Z"
    listed = await client.get("/api/v1/sla/contracts", headers=admin.headers)
    assert [c["valid_from"] for c in listed.json()] == ["2027-02-28T21:00:00Z"]


@pytest.mark.integration
async def test_a_contract_given_an_instant_starts_at_that_instant(client, admin) -> None:  # type: ignore[no-untyped-def]
    body = await moscow_contract(client, admin, valid_from="2027-03-01T00:00:00Z")

    contract = await _created(client, admin, "/api/v1/sla/contracts", body)

    assert contract["valid_from"] == "2027-03-01T00:00:00Z"


@pytest.mark.integration
@pytest.mark.parametrize(
    ("start", "field"),
    [
        ({}, "starts_on"),
        ({"starts_on": "2027-03-01", "valid_from": "2027-03-01T00:00:00Z"}, "valid_from"),
        # The end is compared with the start in the calendar's zone: 2027-02-28T21:00Z is the start itself.
        ({"starts_on": "2027-03-01", "valid_to": "2027-02-28T21:00:00Z"}, "valid_to"),
    ],
)
async def test_a_contract_needs_one_start_before_its_end(
    client, admin, start: dict[str, str], field: str
) -> None:  # type: ignore[no-untyped-def]
    body = await moscow_contract(client, admin, **start)

    response = await client.post("/api/v1/sla/contracts", headers=admin.headers, json=body)

    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
