"""The dispatcher's page: plan a day, move a visit (a bad move names the broken rule at its row), publish."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fieldweb import DAY, FieldDesk, StaffedDay, move_visit
from webkit import WebStaff

from helpdesk.runtime import Runtime

pytestmark = pytest.mark.integration


async def test_a_dispatcher_plans_moves_and_publishes_a_day_through_the_page(
    client: httpx.AsyncClient,
    runtime: Runtime,
    field_desk: FieldDesk,
    staffed_day: StaffedDay,
    dispatcher: WebStaff,
) -> None:
    empty = await client.get(f"/agent/dispatch?day={DAY}")
    assert empty.status_code == 200
    assert "No plan for this day yet" in empty.text

    queued = await client.post(
        "/agent/dispatch/plans", data={"_csrf": dispatcher.csrf, "day": DAY, "time_limit_seconds": "0"}
    )
    assert queued.status_code == 303
    waiting = await client.get(queued.headers["location"])
    assert 'http-equiv="refresh"' in waiting.text
    await runtime.queue.drain()  # type: ignore[attr-defined]
    board = await client.get(queued.headers["location"])
    assert board.status_code == 200
    plan_id = int(queued.headers["location"].rsplit("plan=", 1)[1])
    assert f'id="wo-{staffed_day.first}"' in board.text
    assert f'id="wo-{staffed_day.second}"' in board.text

    bad = await move_visit(client, dispatcher.csrf, plan_id, staffed_day.first, staffed_day.electric)
    assert bad.status_code == 422
    assert f'id="err-{staffed_day.first}"><li>skill:' in bad.text

    good = await move_visit(client, dispatcher.csrf, plan_id, staffed_day.second, staffed_day.boiler)
    assert good.status_code == 303, good.text
    plan = await field_desk.read_plan(plan_id)
    first_visit = min(plan["visits"], key=lambda v: v["position"])
    assert first_visit["work_order_id"] == staffed_day.second

    published = await client.post(f"/agent/dispatch/plans/{plan_id}/publish", data={"_csrf": dispatcher.csrf})
    assert published.status_code == 303
    assert "Published" in (await client.get(published.headers["location"])).text
    order = await field_desk.read_work_order(staffed_day.second)
    assert order["technician_id"] == staffed_day.boiler
    assert order["window_start_at"] is not None
    await runtime.queue.drain()  # type: ignore[attr-defined]


async def test_the_dispatch_page_is_for_the_desk_and_refused_to_technicians(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    assert (await client.get("/agent/dispatch")).status_code in (302, 303)
    await sign_in("technician")
    assert (await client.get("/agent/dispatch")).status_code == 403
    await sign_in("manager")
    assert (await client.get("/agent/dispatch")).status_code == 200
