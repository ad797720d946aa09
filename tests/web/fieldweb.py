"""Helpers for the field service pages: a skill, a technician and a ticket through the API."""

from __future__ import annotations

from typing import Any

import httpx

WEEKDAYS_8_TO_17 = {day: ["08:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
DAY = "2027-03-01"  # the clock fixture's Monday
SITE = {"address": "Unter den Linden 1, Berlin", "lat": 52.517, "lon": 13.389}


async def make_skill(client: httpx.AsyncClient, admin: Any, name: str) -> None:
    response = await client.post("/api/v1/dispatch/skills", json={"name": name}, headers=admin.headers)
    assert response.status_code in (201, 409), response.text


async def make_technician(
    client: httpx.AsyncClient, admin: Any, make_staff: Any, *, name: str = "Tom Tech", **fields: Any
) -> tuple[Any, dict[str, Any]]:
    staff = await make_staff("technician", name=name, password=fields.pop("password", None))
    body = {
        "user_id": staff.id,
        "skills": {"boiler": 2},
        "home_lat": 52.52,
        "home_lon": 13.405,
        "hours": {"timezone": "UTC", "week": WEEKDAYS_8_TO_17},
        "lunch_window": "12:00-14:00",
        "lunch_minutes": 30,
        **fields,
    }
    for skill in body["skills"]:
        await make_skill(client, admin, skill)
    response = await client.post("/api/v1/dispatch/technicians", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    return staff, response.json()


async def make_work_order(
    client: httpx.AsyncClient, agent: Any, open_ticket: Any, **fields: Any
) -> dict[str, Any]:
    ticket = await open_ticket(agent.headers, customer_email="carla@example.com", customer_name="Carla")
    body = {
        "ticket_id": ticket["id"],
        "location": SITE,
        "required_skills": {"boiler": 1},
        "duration_minutes": 60,
        **fields,
    }
    response = await client.post("/api/v1/dispatch/work-orders", json=body, headers=agent.headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result
