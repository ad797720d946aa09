"""Helpers for the field service API tests: a skill, a technician, a ticket with a work order, a published plan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from helpdesk.runtime import Runtime


@pytest.fixture(autouse=True)
async def drain_jobs(runtime: Runtime) -> AsyncIterator[None]:
    """Imported by each module: jobs a test queued last finish before the tables are emptied."""
    yield
    await runtime.queue.drain()  # type: ignore[attr-defined]


WEEKDAYS_8_TO_17 = {day: ["08:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
BERLIN = (52.52, 13.405)
DAY = "2027-03-01"  # the clock fixture's Monday


async def make_skill(client: httpx.AsyncClient, admin: Any, name: str) -> None:
    response = await client.post("/api/v1/dispatch/skills", json={"name": name}, headers=admin.headers)
    assert response.status_code in (201, 409), response.text


async def make_technician(
    client: httpx.AsyncClient,
    admin: Any,
    make_staff: Any,
    *,
    name: str = "Tom Tech",
    password: str | None = None,
    **fields: Any,
) -> tuple[Any, dict[str, Any]]:
    staff = await make_staff("technician", name=name, password=password)
    for skill in fields.get("skills", {"boiler": 2}):
        await make_skill(client, admin, skill)
    body = {
        "user_id": staff.id,
        "skills": {"boiler": 2},
        "home_lat": BERLIN[0],
        "home_lon": BERLIN[1],
        "hours": {"timezone": "UTC", "week": WEEKDAYS_8_TO_17},
        "lunch_window": "12:00-14:00",
        "lunch_minutes": 30,
        **fields,
    }
    response = await client.post("/api/v1/dispatch/technicians", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    return staff, response.json()


async def make_work_order(
    client: httpx.AsyncClient,
    agent: Any,
    open_ticket: Any,
    *,
    customer_email: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    ticket = await open_ticket(
        agent.headers, customer_email=customer_email or "carla@example.com", customer_name="Carla Customer"
    )
    body = {
        "ticket_id": ticket["id"],
        "location": {"address": "Unter den Linden 1, Berlin", "lat": 52.517, "lon": 13.389},
        "required_skills": {"boiler": 1},
        "duration_minutes": 60,
        **fields,
    }
    response = await client.post("/api/v1/dispatch/work-orders", json=body, headers=agent.headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def plan_day(
    client: httpx.AsyncClient, runtime: Runtime, who: Any, *, day: str = DAY, time_limit: float = 0
) -> dict[str, Any]:
    """Queue a plan, let the job run, return the finished plan."""
    response = await client.post(
        "/api/v1/dispatch/plans", json={"day": day, "time_limit_seconds": time_limit}, headers=who.headers
    )
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued"
    await runtime.queue.drain()  # type: ignore[attr-defined]
    plan = await client.get(f"/api/v1/dispatch/plans/{response.json()['id']}", headers=who.headers)
    assert plan.status_code == 200, plan.text
    result: dict[str, Any] = plan.json()
    return result


async def publish(client: httpx.AsyncClient, runtime: Runtime, who: Any, plan_id: int) -> dict[str, Any]:
    response = await client.post(f"/api/v1/dispatch/plans/{plan_id}/publish", headers=who.headers)
    assert response.status_code == 200, response.text
    await runtime.queue.drain()  # type: ignore[attr-defined]
    result: dict[str, Any] = response.json()
    return result


async def work_order(client: httpx.AsyncClient, who: Any, order_id: int) -> dict[str, Any]:
    response = await client.get(f"/api/v1/dispatch/work-orders/{order_id}", headers=who.headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def step(
    client: httpx.AsyncClient, who: Any, order: dict[str, Any], status: str, **fields: Any
) -> httpx.Response:
    return await client.post(
        f"/api/v1/dispatch/work-orders/{order['id']}/transitions",
        json={"version": order["version"], "status": status, **fields},
        headers=who.headers,
    )
