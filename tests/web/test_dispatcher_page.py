"""The dispatcher's page: plan a day, move a visit (a bad move names the broken rule at its row), publish."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fieldweb import DAY, make_technician, make_work_order

from helpdesk.runtime import Runtime

pytestmark = pytest.mark.integration


async def test_a_dispatcher_plans_moves_and_publishes_a_day_through_the_page(
    client: httpx.AsyncClient,
    runtime: Runtime,
    admin: Any,
    agent: Any,
    make_staff: Any,
    open_ticket: Any,
    sign_in: Any,
) -> None:
    _, boiler = await make_technician(client, admin, make_staff)
    _, electric = await make_technician(
        client, admin, make_staff, name="Eve Electric", skills={"electrical": 1}
    )
    first = await make_work_order(client, agent, open_ticket)
    second = await make_work_order(client, agent, open_ticket)
    me = await sign_in("agent")
    empty = await client.get(f"/agent/dispatch?day={DAY}")
    assert empty.status_code == 200
    assert "No plan for this day yet" in empty.text

    queued = await client.post(
        "/agent/dispatch/plans", data={"_csrf": me.csrf, "day": DAY, "time_limit_seconds": "0"}
    )
    assert queued.status_code == 303
    waiting = await client.get(queued.headers["location"])
    assert 'http-equiv="refresh"' in waiting.text
    await runtime.queue.drain()  # type: ignore[attr-defined]
    board = await client.get(queued.headers["location"])
    assert board.status_code == 200
    plan_id = int(queued.headers["location"].rsplit("plan=", 1)[1])
    assert f'id="wo-{first["id"]}"' in board.text
    assert f'id="wo-{second["id"]}"' in board.text

    bad = await client.post(
        f"/agent/dispatch/plans/{plan_id}/moves",
        data={
            "_csrf": me.csrf,
            "work_order_id": first["id"],
            "technician_id": electric["id"],
            "position": "1",
        },
    )
    assert bad.status_code == 422
    assert f'id="err-{first["id"]}"><li>skill:' in bad.text

    good = await client.post(
        f"/agent/dispatch/plans/{plan_id}/moves",
        data={
            "_csrf": me.csrf,
            "work_order_id": second["id"],
            "technician_id": boiler["id"],
            "position": "1",
        },
    )
    assert good.status_code == 303, good.text
    plan = (await client.get(f"/api/v1/dispatch/plans/{plan_id}", headers=agent.headers)).json()
    first_visit = min(plan["visits"], key=lambda v: v["position"])
    assert first_visit["work_order_id"] == second["id"]

    published = await client.post(f"/agent/dispatch/plans/{plan_id}/publish", data={"_csrf": me.csrf})
    assert published.status_code == 303
    assert "Published" in (await client.get(published.headers["location"])).text
    order = (await client.get(f"/api/v1/dispatch/work-orders/{second['id']}", headers=agent.headers)).json()
    assert order["technician_id"] == boiler["id"]
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
