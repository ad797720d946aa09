"""Times on pages are the viewer's: their own zone, else the help desk's default (Asia/Tokyo here), with the
zone's abbreviation; the technician's page and the dispatch board use each technician's calendar zone.
Storage stays UTC (the API answers in UTC). The clock stands at 2027-03-01 09:00 UTC."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import msgspec
import pytest
from fieldweb import DAY, WEEKDAYS_8_TO_17, FieldDesk

from helpdesk.core.settings import Settings

pytestmark = pytest.mark.integration

# 13:00-15:00 UTC is 14:00-16:00 in Berlin (CET, UTC+1 in March).
WINDOW = {"start_at": "2027-03-01T13:00:00Z", "end_at": "2027-03-01T15:00:00Z"}
BERLIN_HOURS = {"timezone": "Europe/Berlin", "week": WEEKDAYS_8_TO_17}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, default_time_zone="Asia/Tokyo")


@dataclass(frozen=True)
class BerlinJob:
    """A job in a window of 13:00-15:00 UTC, planned and published for Berta Berlin, whose calendar is Berlin's."""

    technician: Any  # her staff account, with a password to sign in
    order: dict[str, Any]
    plan: int


@pytest.fixture
async def berlin_job(field_desk: FieldDesk) -> BerlinJob:
    technician, _ = await field_desk.technician(
        name="Berta Berlin", hours=BERLIN_HOURS, lunch_window=None, password="correct horse battery"
    )
    order = await field_desk.work_order(windows=[WINDOW])
    plan = await field_desk.plan()
    await field_desk.publish(plan)
    return BerlinJob(technician, order, plan)


async def test_a_page_shows_times_in_the_viewers_own_zone_with_its_abbreviation(
    client: httpx.AsyncClient, agent: Any, open_ticket: Any, sign_in: Any
) -> None:
    ticket = await open_ticket(agent.headers, customer_email="moscow@example.com")
    await sign_in("agent", time_zone="Europe/Moscow")
    page = await client.get(f"/agent/tickets/{ticket['id']}")
    assert "Mar 1, 2027, 12:00:00\u202fPM MSK" in page.text
    assert " UTC<" not in page.text


async def test_people_without_a_zone_see_the_help_desks_default_zone(
    client: httpx.AsyncClient, agent: Any, open_ticket: Any
) -> None:
    ticket = await open_ticket(agent.headers, customer_email="tokyo@example.com")
    client.cookies.clear()
    page = await client.get(
        ticket["tracking_url"].split("testserver.local", 1)[1], headers={"Accept-Language": "en"}
    )
    assert page.status_code == 200
    assert "Mar 1, 2027, 6:00:00\u202fPM JST" in page.text


async def test_a_berlin_technician_sees_arrival_windows_in_berlin_time(
    client: httpx.AsyncClient, field_desk: FieldDesk, berlin_job: BerlinJob
) -> None:
    order = berlin_job.order
    assert (await field_desk.read_work_order(order["id"]))["window_start_at"] == "2027-03-01T13:00:00Z"

    client.cookies.clear()
    login = await client.post(
        "/api/v1/auth/login", json={"email": berlin_job.technician.email, "password": "correct horse battery"}
    )
    assert login.status_code == 200, login.text
    page = await client.get("/technician", headers={"Cookie": f"hd_session={login.cookies['hd_session']}"})
    client.cookies.clear()
    assert f"WO-{order['id']}" in page.text
    assert '<span class="window">14:00–16:00 CET</span>' in page.text


async def test_the_dispatch_board_shows_each_technicians_visits_in_their_zone(
    client: httpx.AsyncClient, berlin_job: BerlinJob, dispatcher: Any
) -> None:
    board = await client.get(f"/agent/dispatch?day={DAY}&plan={berlin_job.plan}")
    row = board.text.split(f'id="wo-{berlin_job.order["id"]}"', 1)[1].split("</tr>", 1)[0]
    assert '<span class="visit-time">14:00–15:00</span>' in row
    assert "--from: 840;" in row
    assert '<th scope="col">Time <span class="muted">CET</span></th>' in board.text


async def test_a_work_order_window_typed_on_the_ticket_page_is_read_in_the_agents_zone(
    client: httpx.AsyncClient, field_desk: FieldDesk, agent: Any, open_ticket: Any, sign_in: Any
) -> None:
    await field_desk.technician()
    ticket = await open_ticket(agent.headers, customer_email="window@example.com")
    me = await sign_in("agent", time_zone="Europe/Moscow")
    page = await client.get(f"/agent/tickets/{ticket['id']}")
    assert "Available from (MSK)" in page.text
    made = await client.post(
        f"/agent/tickets/{ticket['id']}/work-orders",
        data={
            "_csrf": me.csrf,
            "duration_minutes": "60",
            "required_skills": "boiler",
            "address": "Tverskaya 1, Moscow",
            "lat": "55.757",
            "lon": "37.615",
            "window_start": "2027-03-02T12:00",
            "window_end": "2027-03-02T15:00",
        },
    )
    assert made.status_code == 303, made.text
    orders = await client.get(f"/api/v1/dispatch/work-orders?ticket_id={ticket['id']}", headers=agent.headers)
    [order] = orders.json()
    assert order["windows"] == [{"start_at": "2027-03-02T09:00:00Z", "end_at": "2027-03-02T12:00:00Z"}]
