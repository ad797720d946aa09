"""The SLA page's contract form takes a start day: the contract starts at midnight of that day in the zone of
its policy's business calendar (the service converts it; the page passes the day as it was typed)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration

TARGETS = {f"P{n}_{kind}_minutes": "60" for n in range(1, 5) for kind in ("first_response", "resolution")}


@pytest.fixture
async def contract_form(client: httpx.AsyncClient, sign_in: Any, admin: Any) -> dict[str, str]:
    """The contract form of an admin, filled in but for the start: a policy counting in a Europe/Moscow calendar
    (both made on the page) and an organisation."""
    csrf = (await sign_in("admin")).csrf
    calendar = {
        "_csrf": csrf,
        "name": "Moscow office",
        "timezone": "Europe/Moscow",
        "week_mon": "09:00-18:00",
    }
    assert (await client.post("/admin/sla/calendar", data=calendar)).status_code == 303
    calendar_id = re.search(
        r'<option value="(\d+)">Moscow office</option>', (await client.get("/admin/sla")).text
    )
    assert calendar_id
    policy = {"_csrf": csrf, "name": "Moscow terms", "calendar_id": calendar_id.group(1), **TARGETS}
    assert (await client.post("/admin/sla/policy", data=policy)).status_code == 303
    policy_id = re.search(
        r'<option value="(\d+)">Moscow terms</option>', (await client.get("/admin/sla")).text
    )
    assert policy_id
    organisation = await client.post("/api/v1/organisations", headers=admin.headers, json={"name": "Clinic"})
    assert organisation.status_code == 201, organisation.text
    return {"_csrf": csrf, "name": "Clinic 2027", "policy_id": policy_id.group(1),
            "organisation_id": str(organisation.json()["id"])}  # fmt: skip


async def test_a_contract_from_the_page_starts_at_midnight_in_its_calendars_zone(
    client: httpx.AsyncClient, admin: Any, contract_form: dict[str, str]
) -> None:
    saved = await client.post("/admin/sla/contract", data={**contract_form, "valid_from": "2027-03-01"})

    assert saved.status_code == 303, saved.text
    listed = await client.get("/api/v1/sla/contracts", headers=admin.headers)
    assert [c["valid_from"] for c in listed.json()] == ["2027-02-28T21:00:00Z"]


async def test_a_start_that_is_no_day_is_refused_at_the_start(
    client: httpx.AsyncClient, contract_form: dict[str, str]
) -> None:
    refused = await client.post("/admin/sla/contract", data={**contract_form, "valid_from": "2027-02-30"})

    assert refused.status_code == 422
    assert re.search(r'id="contract-valid_from-error"[^>]*>not a valid date<', refused.text)
