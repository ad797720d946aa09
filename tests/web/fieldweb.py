"""Helpers for the field service pages: a skill, a technician and a ticket through the API; the ``field_desk``,
``staffed_day`` and ``planned_day`` fixtures (tests/web/conftest.py) are built from them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from helpdesk.runtime import Runtime

WEEKDAYS_8_TO_17 = {day: ["08:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
DAY = "2027-03-01"  # the clock fixture's Monday
SITE = {"address": "Unter den Linden 1, Berlin", "lat": 52.517, "lon": 13.389}


async def make_skill(client: httpx.AsyncClient, admin: Any, name: str) -> None:
    response = await client.post("/api/v1/dispatch/skills", json={"name": name}, headers=admin.headers)
    assert response.status_code in (201, 409), response.text


def technician_body(user_id: int, **fields: Any) -> dict[str, Any]:
    """What ``POST /api/v1/dispatch/technicians`` gets for a boiler technician based in Berlin, 08:00-17:00 UTC
    on weekdays with half an hour's lunch; ``fields`` change any of it."""
    return {
        "user_id": user_id,
        "skills": {"boiler": 2},
        "home_lat": 52.52,
        "home_lon": 13.405,
        "hours": {"timezone": "UTC", "week": WEEKDAYS_8_TO_17},
        "lunch_window": "12:00-14:00",
        "lunch_minutes": 30,
        **fields,
    }


def work_order_body(ticket_id: int, **fields: Any) -> dict[str, Any]:
    """What ``POST /api/v1/dispatch/work-orders`` gets for a one-hour boiler job at :data:`SITE`."""
    return {
        "ticket_id": ticket_id,
        "location": SITE,
        "required_skills": {"boiler": 1},
        "duration_minutes": 60,
        **fields,
    }


async def make_technician(
    client: httpx.AsyncClient, admin: Any, make_staff: Any, *, name: str = "Tom Tech", **fields: Any
) -> tuple[Any, dict[str, Any]]:
    staff = await make_staff("technician", name=name, password=fields.pop("password", None))
    body = technician_body(staff.id, **fields)
    for skill in body["skills"]:
        await make_skill(client, admin, skill)
    response = await client.post("/api/v1/dispatch/technicians", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    return staff, response.json()


async def make_work_order(
    client: httpx.AsyncClient, agent: Any, open_ticket: Any, **fields: Any
) -> dict[str, Any]:
    ticket = await open_ticket(agent.headers, customer_email="carla@example.com", customer_name="Carla")
    body = work_order_body(ticket["id"], **fields)
    response = await client.post("/api/v1/dispatch/work-orders", json=body, headers=agent.headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def move_visit(
    client: httpx.AsyncClient,
    csrf: str,
    plan_id: int,
    order: int,
    technician: int | str,
    position: int = 1,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """The dispatcher page's Move form for work order ``order`` (``technician=""``: 'Not planned'), as a signed-in
    person sends it (plan-drag.js asks for JSON in ``headers``)."""
    form = {"_csrf": csrf, "work_order_id": order, "technician_id": technician, "position": str(position)}
    return await client.post(f"/agent/dispatch/plans/{plan_id}/moves", data=form, headers=headers)


@dataclass
class FieldDesk:
    """Field service set up through the API on the test's app: an admin makes technicians, an agent makes work
    orders and plans and publishes days (each plan is made with the planner's quickest setting, jobs drained)."""

    client: httpx.AsyncClient
    runtime: Runtime
    admin: Any
    agent: Any
    make_staff: Any
    open_ticket: Any

    async def technician(self, name: str = "Tom Tech", **fields: Any) -> tuple[Any, dict[str, Any]]:
        """A technician (see :func:`make_technician`): their staff account and the API's answer."""
        return await make_technician(self.client, self.admin, self.make_staff, name=name, **fields)

    async def work_order(self, **fields: Any) -> dict[str, Any]:
        """A one-hour boiler job at :data:`SITE` on a new ticket (see :func:`make_work_order`)."""
        return await make_work_order(self.client, self.agent, self.open_ticket, **fields)

    async def plan(self, day: str = DAY) -> int:
        """Plan ``day`` and wait for the planning job; the plan's id."""
        queued = await self.client.post(
            "/api/v1/dispatch/plans", json={"day": day, "time_limit_seconds": 0}, headers=self.agent.headers
        )
        assert queued.status_code == 202, queued.text
        await self.runtime.queue.drain()  # type: ignore[attr-defined]
        plan_id: int = queued.json()["id"]
        return plan_id

    async def publish(self, plan_id: int) -> None:
        """Publish the plan and let its jobs (the customers' appointment mail) run."""
        published = await self.client.post(
            f"/api/v1/dispatch/plans/{plan_id}/publish", headers=self.agent.headers
        )
        assert published.status_code == 200, published.text
        await self.runtime.queue.drain()  # type: ignore[attr-defined]

    async def read_plan(self, plan_id: int) -> dict[str, Any]:
        return await self._read(f"/api/v1/dispatch/plans/{plan_id}")

    async def read_work_order(self, order_id: int) -> dict[str, Any]:
        return await self._read(f"/api/v1/dispatch/work-orders/{order_id}")

    async def _read(self, path: str) -> dict[str, Any]:
        response = await self.client.get(path, headers=self.agent.headers)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


@dataclass(frozen=True)
class StaffedDay:
    """Two technicians and two jobs on :data:`DAY`: Tom Tech (``boiler``: boiler level 2) and Eve Electric
    (``electric``: electrical only, so a boiler job moved to her breaks the skill rule), and two boiler jobs
    (``first``, ``second``: work order ids)."""

    boiler: int
    electric: int
    first: int
    second: int


@dataclass(frozen=True)
class PlannedDay(StaffedDay):
    """A :class:`StaffedDay` planned (not published): ``plan`` is the plan's id."""

    plan: int
