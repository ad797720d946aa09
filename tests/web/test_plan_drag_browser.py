"""Drag and drop on the dispatcher's page in a real browser (Debian's chromium driven by Playwright) against a
real server: a refused drop lists the broken rules under the job, an accepted one changes the plan.

Screenshots land in test-output/screenshots/ (dispatcher-drag-refused.png, dispatcher-drag-moved.png).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fieldweb import technician_body, work_order_body
from test_browser_journeys import SHOTS, Server, _sign_in, _staff, browser, server

from helpdesk.core.settings import Settings

pytestmark = pytest.mark.browser
__all__ = ["browser", "server"]  # the journeys' fixtures: a server on the test database, and chromium

ALL_DAY = {day: ["06:00-22:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
SKILLS = {"Tom Boiler": {"boiler": 2}, "Bea Boiler": {"boiler": 2}, "Eve Electric": {"electrical": 1}}


@dataclass(frozen=True)
class DragDay:
    """Tomorrow (the whole working day is ahead whatever the time of the run), :data:`SKILLS`' technicians
    working all day (technician ids by name), two boiler jobs, and a dispatcher to sign in (an agent's e-mail)."""

    day: str
    technicians: dict[str, int]
    orders: list[int]
    dispatcher_email: str


@pytest.fixture
async def drag_day(server: Server) -> DragDay:
    headers, users = await _accounts(server, list(SKILLS))
    async with httpx.AsyncClient(base_url=server.url, headers=headers) as api:
        for skill in ("boiler", "electrical"):
            assert (await api.post("/api/v1/dispatch/skills", json={"name": skill})).status_code in (201, 409)
        technicians = {name: await _technician(api, users[name], SKILLS[name]) for name in SKILLS}
        orders = [await _work_order(api, f"Boiler {n} makes a banging noise") for n in (1, 2)]
    return DragDay(
        day=(datetime.now(UTC) + timedelta(days=1)).date().isoformat(),
        technicians=technicians,
        orders=orders,
        dispatcher_email=await _staff(server, "agent", "Dan Dispatcher"),
    )


async def _accounts(server: Server, technicians: list[str]) -> tuple[dict[str, str], dict[str, int]]:
    """An admin's API token (to set up through the HTTP API) and technician users, by name."""
    from helpdesk.accounts.service import AccountService
    from helpdesk.runtime import start_runtime, stop_runtime

    runtime = await start_runtime(Settings(database_url=server.database_url), in_process_jobs=True)
    try:
        accounts = AccountService(runtime)

        async def user(name: str, role: str) -> int:
            email = f"{role}-{os.urandom(3).hex()}@staff.example"
            return (await accounts.create_user(email=email, name=name, role=role, password=None)).id

        _, token = await accounts.create_api_token(await user("Setup", "admin"), "drag test")
        return {"Authorization": f"Bearer {token}"}, {
            name: await user(name, "technician") for name in technicians
        }
    finally:
        await stop_runtime(runtime)


async def _technician(api: httpx.AsyncClient, user_id: int, skills: dict[str, int]) -> int:
    body = technician_body(
        user_id, skills=skills, hours={"timezone": "UTC", "week": ALL_DAY}, lunch_window=None
    )
    made = await api.post("/api/v1/dispatch/technicians", json=body)
    assert made.status_code == 201, made.text
    technician_id: int = made.json()["id"]
    return technician_id


async def _work_order(api: httpx.AsyncClient, subject: str) -> int:
    ticket = await api.post(
        "/api/v1/tickets",
        json={"subject": subject, "description": "It bangs.", "customer_email": "carla@example.com"},
    )
    assert ticket.status_code == 201, ticket.text
    order = await api.post("/api/v1/dispatch/work-orders", json=work_order_body(ticket.json()["id"]))
    assert order.status_code == 201, order.text
    order_id: int = order.json()["id"]
    return order_id


async def test_a_dispatcher_drags_a_job_to_another_technician_and_sees_the_plan_change(
    browser: Any, server: Server, drag_day: DragDay
) -> None:
    day, technicians, orders = drag_day.day, drag_day.technicians, drag_day.orders
    page = await browser.new_page(viewport={"width": 1366, "height": 1000})
    await _sign_in(page, server, drag_day.dispatcher_email)
    await page.wait_for_url("**/agent")
    await page.goto(f"{server.url}/agent/dispatch?day={day}")
    await page.select_option("#d-seconds", "1")
    await page.click("#run-planner")
    await page.wait_for_selector("#plan-board", timeout=30_000)
    assert await page.is_visible("#drag-hint")

    job = orders[0]
    lane_of_job = await page.evaluate(
        f"document.getElementById('wo-{job}').closest('[data-lane]').dataset.lane"
    )
    # A drop on the technician without the skill is refused: the rule is named under the job, nothing moves.
    await page.drag_and_drop(f"#wo-{job}", f"section[data-lane='{technicians['Eve Electric']}']")
    await page.wait_for_selector(f"#drag-err-{job}")
    refusal = await page.text_content(f"#drag-err-{job}")
    assert refusal is not None
    assert "The technician lacks a skill this job needs" in refusal
    assert "Eve Electric" in refusal
    await page.screenshot(path=str(SHOTS / "dispatcher-drag-refused.png"), full_page=True)

    # A drop on the other boiler technician is made: the page shows the job in that technician's lane.
    other = next(
        str(t) for name, t in technicians.items() if name != "Eve Electric" and str(t) != lane_of_job
    )
    await page.drag_and_drop(f"#wo-{job}", f"section[data-lane='{other}'] h2")
    await page.wait_for_url(f"**moved={job}**")
    await page.wait_for_selector(f"section[data-lane='{other}'] #wo-{job}")
    assert await page.locator(f"section[data-lane='{lane_of_job}'] #wo-{job}").count() == 0
    await page.screenshot(path=str(SHOTS / "dispatcher-drag-moved.png"), full_page=True)
