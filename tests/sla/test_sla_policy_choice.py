"""Which policy a new ticket gets, now that the choice rides along with the intake query and the policies'
terms are kept per process by version: edits reach the next ticket at once, and the contract rules hold.
The clock is fixed at Monday 2027-03-01 09:00 UTC."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.integration

TARGETS_30 = {p: {"first_response_minutes": 30, "resolution_minutes": 240} for p in ("P1", "P2", "P3", "P4")}
TARGETS_90 = {p: {"first_response_minutes": 90, "resolution_minutes": 240} for p in ("P1", "P2", "P3", "P4")}


async def created(client, admin, path: str, body: dict[str, Any]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = await client.post(path, headers=admin.headers, json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def policy(client, admin, name: str, targets: dict[str, Any], **extra: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    calendar = await created(
        client, admin, "/api/v1/sla/calendars", {"name": f"{name} hours", "calendar": {"24/7": True}}
    )
    body = {"name": name, "calendar_id": calendar["id"], "targets": targets, **extra}
    return await created(client, admin, "/api/v1/sla/policies", body)


async def first_response_due(client, agent, email: str = "olga@clinic.example") -> str:  # type: ignore[no-untyped-def]
    body = {"subject": "Autoclave E-104", "description": "Cycle aborts", "customer_email": email}
    response = await client.post("/api/v1/tickets", json=body, headers=agent.headers)
    assert response.status_code == 201, response.text
    due: str = response.json()["first_response_due_at"]
    return due[:16]


async def test_a_ticket_opened_after_a_policy_edit_runs_under_the_new_version(client, agent, admin):  # type: ignore[no-untyped-def]
    default = await policy(client, admin, "Default", TARGETS_30, is_default=True)
    assert await first_response_due(client, agent) == "2027-03-01T09:30"
    edited = await client.patch(
        f"/api/v1/sla/policies/{default['id']}", headers=admin.headers, json={"targets": TARGETS_90}
    )
    assert edited.status_code == 200, edited.text
    assert await first_response_due(client, agent) == "2027-03-01T10:30"


async def test_a_ticket_opened_after_a_calendar_edit_follows_the_new_hours(client, agent, admin):  # type: ignore[no-untyped-def]
    default = await policy(client, admin, "Default", TARGETS_30, is_default=True)
    assert await first_response_due(client, agent) == "2027-03-01T09:30"
    hours = {"timezone": "UTC", "week": {day: ["10:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri")}}
    changed = await client.patch(
        f"/api/v1/sla/calendars/{default['calendar_id']}", headers=admin.headers, json={"calendar": hours}
    )
    assert changed.status_code == 200, changed.text
    assert await first_response_due(client, agent) == "2027-03-01T10:30"


async def test_a_customers_own_contract_beats_the_organisations(client, agent, admin):  # type: ignore[no-untyped-def]
    slow = await policy(client, admin, "Organisation terms", TARGETS_90)
    fast = await policy(client, admin, "Personal terms", TARGETS_30)
    organisation = await created(
        client, admin, "/api/v1/organisations", {"name": "Clinic", "domain": "clinic.example"}
    )
    olga = {"email": "olga@clinic.example", "name": "Olga", "organisation_id": organisation["id"]}
    customer = await created(client, admin, "/api/v1/customers", olga)
    for name, owner, terms in (
        ("Clinic 2027", {"organisation_id": organisation["id"]}, slow),
        ("Olga 2027", {"customer_id": customer["id"]}, fast),
    ):
        body = {"name": name, "policy_id": terms["id"], "valid_from": "2027-01-01T00:00:00Z", **owner}
        await created(client, admin, "/api/v1/sla/contracts", body)
    assert await first_response_due(client, agent) == "2027-03-01T09:30"
    assert await first_response_due(client, agent, "petr@clinic.example") == "2027-03-01T10:30"


async def test_an_expired_contract_leaves_the_default_policy(client, agent, admin):  # type: ignore[no-untyped-def]
    await policy(client, admin, "Default", TARGETS_90, is_default=True)
    fast = await policy(client, admin, "Old terms", TARGETS_30)
    organisation = await created(
        client, admin, "/api/v1/organisations", {"name": "Clinic", "domain": "clinic.example"}
    )
    body = {
        "name": "Clinic 2026",
        "organisation_id": organisation["id"],
        "policy_id": fast["id"],
        "valid_from": "2026-01-01T00:00:00Z",
        "valid_to": "2027-01-01T00:00:00Z",
    }
    await created(client, admin, "/api/v1/sla/contracts", body)
    assert await first_response_due(client, agent) == "2027-03-01T10:30"
