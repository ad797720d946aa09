"""End-to-end journeys in a real browser (Debian's chromium driven by Playwright) against a real server.

Screenshots of the key pages land in test-output/screenshots/ for people to look at.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import inspect, text

from helpdesk.core.db import create_engine
from helpdesk.core.settings import Settings
from helpdesk.models import Base

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
PASSWORD = "correct horse battery"


@dataclass
class Server:
    url: str
    database_url: str


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("HELPDESK_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is missing")
    port = _free_port()
    env = {
        **os.environ,
        "HELPDESK_DATABASE_URL": database_url,
        "HELPDESK_BASE_URL": f"http://127.0.0.1:{port}",
        "HELPDESK_ATTACHMENT_DIR": str(tmp_path_factory.mktemp("attachments")),
        # A module's tests sign in more often than the production limit of 10 a minute allows.
        "HELPDESK_LOGIN_RATE_PER_MINUTE": "1000",
    }
    env.pop("HELPDESK_REDIS_URL", None)
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "uvicorn", "--factory", "helpdesk.app:create_app", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{url}/healthz", timeout=0.5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None:
                raise RuntimeError(process.stderr.read().decode() if process.stderr else "server died")
            time.sleep(0.1)
        yield Server(url, database_url)
    finally:
        process.terminate()
        process.wait(timeout=10)
        asyncio.run(_empty(database_url))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def _empty(database_url: str) -> None:
    engine = create_engine(database_url)
    async with engine.begin() as conn:
        present = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        for table in reversed(Base.metadata.sorted_tables):
            if table.name in present:
                await conn.execute(table.delete())
        await conn.execute(text("SELECT 1"))
    await engine.dispose()


@pytest.fixture
async def browser(server: Server) -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        instance = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield instance
        finally:
            await instance.close()


async def _staff(server: Server, role: str, name: str) -> str:
    from helpdesk.accounts.service import AccountService
    from helpdesk.runtime import start_runtime, stop_runtime

    runtime = await start_runtime(Settings(database_url=server.database_url), in_process_jobs=True)
    try:
        email = f"{role}-{os.urandom(3).hex()}@staff.example"
        await AccountService(runtime).create_user(email=email, name=name, role=role, password=PASSWORD)
        return email
    finally:
        await stop_runtime(runtime)


async def _submit_request(page: Any, server: Server, subject: str, *, shot: str | None = None) -> str:
    await page.goto(f"{server.url}/")
    await page.fill("#name", "Carla Customer")
    await page.fill("#email", "carla@example.com")
    await page.fill("#subject", subject)
    await page.fill("#description", "The office printer prints blank pages since this morning.")
    # The knowledge base's suggestions appear here (its hook area is on the page from the start).
    assert await page.locator("#kb-suggestions").count() == 1
    if shot:
        await page.screenshot(path=str(SHOTS / shot), full_page=True)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/track/**")
    return str(page.url).split("?")[0]


async def _sign_in(page: Any, server: Server, email: str) -> None:
    await page.goto(f"{server.url}/login")
    await page.fill("#email", email)
    await page.fill("#password", PASSWORD)
    await page.click("form button[type=submit]")


async def test_customer_agent_round_trip_with_a_live_queue(browser: Any, server: Server) -> None:
    customer = await browser.new_page(viewport={"width": 420, "height": 900})
    tracking_url = await _submit_request(
        customer, server, "Printer prints blank pages", shot="portal-new-request.png"
    )
    assert "has been received" in await customer.text_content("main")
    await customer.screenshot(path=str(SHOTS / "portal-tracking.png"), full_page=True)

    agent_email = await _staff(server, "agent", "Alex Agent")
    agent = await browser.new_page(viewport={"width": 1366, "height": 900})
    await _sign_in(agent, server, agent_email)
    await agent.wait_for_url("**/agent")
    await agent.wait_for_selector("text=Printer prints blank pages")

    # A new request arrives while the agent looks at the queue: it appears without a reload.
    other = await browser.new_page()
    await _submit_request(other, server, "Scanner is offline")
    await agent.wait_for_selector("#rows tr.fresh >> text=Scanner is offline", timeout=10_000)
    await agent.screenshot(path=str(SHOTS / "agent-queue.png"), full_page=True)

    await agent.click("text=Printer prints blank pages")
    await agent.wait_for_selector("#composer")
    await agent.fill("#body", "Please switch the printer off and on again; we are sending a technician.")
    await agent.screenshot(path=str(SHOTS / "agent-ticket.png"), full_page=True)
    await agent.click("#composer button[type=submit]")
    await agent.wait_for_selector("text=we are sending a technician")

    await customer.goto(tracking_url)
    assert "we are sending a technician" in await customer.text_content("main")
    await customer.screenshot(path=str(SHOTS / "portal-tracking-reply.png"), full_page=True)


async def test_manager_filters_the_dashboard_and_downloads_a_csv(browser: Any, server: Server) -> None:
    email = await _staff(server, "manager", "Mia Manager")
    page = await browser.new_page(viewport={"width": 1366, "height": 1000}, accept_downloads=True)
    await _sign_in(page, server, email)
    await page.wait_for_url("**/manager")
    await page.select_option("#d-days", "7")
    await page.click(".dash-filters button[type=submit]")
    await page.wait_for_url("**/manager?days=7**")
    assert await page.locator(".chart svg").count() >= 4
    await page.screenshot(path=str(SHOTS / "manager-dashboard.png"), full_page=True)
    async with page.expect_download() as info:
        await page.click("a[href^='/manager/export/backlog.csv']")
    download = await info.value
    content = await asyncio.to_thread(Path(await download.path()).read_text)
    assert content.startswith("queue,priority,open_tickets")


async def _skill(server: Server, name: str) -> None:
    from dispatch.resources import SkillService
    from dispatch.schemas import SkillCreate
    from helpdesk.runtime import start_runtime, stop_runtime

    runtime = await start_runtime(Settings(database_url=server.database_url), in_process_jobs=True)
    try:
        await SkillService(runtime).create_skill(SkillCreate(name=name))
    finally:
        await stop_runtime(runtime)


async def test_a_dispatcher_plans_a_day_and_the_technician_completes_the_job_on_a_phone(
    browser: Any, server: Server
) -> None:
    await _skill(server, "boiler")
    tech_email = await _staff(server, "technician", "Tom Tech")
    admin_email = await _staff(server, "admin", "Ada Admin")
    agent_email = await _staff(server, "agent", "Dan Dispatcher")
    customer = await browser.new_page(viewport={"width": 420, "height": 900})
    await _submit_request(customer, server, "Boiler makes a banging noise")

    # The admin makes the technician plannable: skills, home base and hours, on the technicians page.
    admin = await browser.new_page(viewport={"width": 1366, "height": 900})
    await _sign_in(admin, server, admin_email)
    await admin.goto(f"{server.url}/admin/technicians")
    await admin.fill("#tech-skills", "boiler:2")
    await admin.fill("#tech-home_address", "Alexanderplatz 1, Berlin")
    await admin.fill("#tech-home_lat", "52.52")
    await admin.fill("#tech-home_lon", "13.405")
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        await admin.fill(f"#tech-week_{day}", "06:00-22:00")
    await admin.fill("#tech-lunch_window", "")
    await admin.click("text=Add technician")
    await admin.wait_for_selector("#feed-url")
    await admin.screenshot(path=str(SHOTS / "admin-technicians.png"), full_page=True)

    # The agent creates the work order from the ticket page, then plans, reviews and publishes the day.
    dispatcher = await browser.new_page(viewport={"width": 1366, "height": 900})
    await _sign_in(dispatcher, server, agent_email)
    await dispatcher.wait_for_url("**/agent")
    await dispatcher.click("text=Boiler makes a banging noise")
    await dispatcher.click("#work-orders summary")
    await dispatcher.fill("#wo-duration_minutes", "60")
    await dispatcher.fill("#wo-required_skills", "boiler:1")
    await dispatcher.fill("#wo-address", "Unter den Linden 1, Berlin")
    await dispatcher.fill("#wo-lat", "52.517")
    await dispatcher.fill("#wo-lon", "13.389")
    await dispatcher.click("text=Create work order")
    await dispatcher.wait_for_selector("#work-orders >> text=WO-")
    await dispatcher.screenshot(path=str(SHOTS / "agent-ticket-work-order.png"), full_page=True)
    await dispatcher.click("a[href='/agent/dispatch']")
    await dispatcher.select_option("#d-seconds", "1")
    await dispatcher.click("#run-planner")
    await dispatcher.wait_for_selector("#publish", timeout=30_000)
    assert await dispatcher.locator("table.plan tbody tr").count() == 1
    await dispatcher.screenshot(path=str(SHOTS / "dispatcher-plan.png"), full_page=True)
    await dispatcher.click("#publish")
    await dispatcher.wait_for_selector("text=Published")

    # The technician works the job from a phone.
    phone = await browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    await _sign_in(phone, server, tech_email)
    await phone.wait_for_url("**/technician")
    await phone.wait_for_selector("text=Boiler makes a banging noise")
    await phone.screenshot(path=str(SHOTS / "technician-jobs-phone.png"), full_page=True)
    await phone.click("text=On my way")
    await phone.click("text=Arrived on site")
    await phone.fill("input[name=time_on_site_minutes]", "45")
    await phone.fill("input[name=parts_used]", "valve")
    await phone.fill("input[name=signoff_name]", "Carla Customer")
    await phone.screenshot(path=str(SHOTS / "technician-completion-phone.png"), full_page=True)
    await phone.click("form.completion button[type=submit]")
    await phone.wait_for_selector(".notice")
    assert "completed" in await phone.text_content(".notice")
    await phone.screenshot(path=str(SHOTS / "technician-done-phone.png"), full_page=True)
