"""Drag and drop on the dispatcher's page, over HTTP: the script sends the row's Move form asking for JSON; the
plan service validates the move; a refused move answers 422 with each broken rule in words."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fieldweb import DAY, make_technician, make_work_order

from helpdesk.runtime import Runtime

pytestmark = pytest.mark.integration
JSON = {"Accept": "application/json"}


async def _planned_day(
    client: httpx.AsyncClient, runtime: Runtime, admin: Any, agent: Any, make_staff: Any, open_ticket: Any
) -> dict[str, Any]:
    """Two technicians (boiler, electrical), two boiler jobs, the day planned: ids and the plan."""
    _, boiler = await make_technician(client, admin, make_staff)
    _, electric = await make_technician(
        client, admin, make_staff, name="Eve Electric", skills={"electrical": 1}
    )
    first = await make_work_order(client, agent, open_ticket)
    second = await make_work_order(client, agent, open_ticket)
    planned = await client.post(
        "/api/v1/dispatch/plans", json={"day": DAY, "time_limit_seconds": 0}, headers=agent.headers
    )
    assert planned.status_code == 202, planned.text
    await runtime.queue.drain()  # type: ignore[attr-defined]
    return {
        "plan": planned.json()["id"],
        "boiler": boiler["id"],
        "electric": electric["id"],
        "first": first["id"],
        "second": second["id"],
    }


async def test_a_refused_drag_answers_422_with_each_broken_rule_in_words_and_leaves_the_plan(
    client: httpx.AsyncClient,
    runtime: Runtime,
    admin: Any,
    agent: Any,
    make_staff: Any,
    open_ticket: Any,
    sign_in: Any,
) -> None:
    day = await _planned_day(client, runtime, admin, agent, make_staff, open_ticket)
    before = (await client.get(f"/api/v1/dispatch/plans/{day['plan']}", headers=agent.headers)).json()
    me = await sign_in("agent")
    form = {
        "_csrf": me.csrf,
        "work_order_id": day["first"],
        "technician_id": day["electric"],
        "position": "1",
    }
    refused = await client.post(f"/agent/dispatch/plans/{day['plan']}/moves", data=form, headers=JSON)
    assert refused.status_code == 422
    answer = refused.json()
    assert answer["message"].startswith("Not moved: the plan would break")
    skill = next(v for v in answer["violations"] if v["code"] == "skill")
    assert skill == {
        "code": "skill",
        "rule": "The technician lacks a skill this job needs",
        "work_order": f"WO-{day['first']}",
        "technician": "Eve Electric",
        "detail": "needs boiler ≥ 1",
    }
    after = (await client.get(f"/api/v1/dispatch/plans/{day['plan']}", headers=agent.headers)).json()
    assert after["visits"] == before["visits"]


async def test_an_accepted_drag_moves_the_visit_and_answers_with_the_page_to_show(
    client: httpx.AsyncClient,
    runtime: Runtime,
    admin: Any,
    agent: Any,
    make_staff: Any,
    open_ticket: Any,
    sign_in: Any,
) -> None:
    day = await _planned_day(client, runtime, admin, agent, make_staff, open_ticket)
    me = await sign_in("agent")
    form = {"_csrf": me.csrf, "work_order_id": day["second"], "technician_id": day["boiler"], "position": "1"}
    moved = await client.post(f"/agent/dispatch/plans/{day['plan']}/moves", data=form, headers=JSON)
    assert moved.status_code == 200, moved.text
    assert moved.json() == {
        "url": f"/agent/dispatch?day={DAY}&plan={day['plan']}&moved={day['second']}#wo-{day['second']}"
    }
    plan = (await client.get(f"/api/v1/dispatch/plans/{day['plan']}", headers=agent.headers)).json()
    first_visit = min(plan["visits"], key=lambda v: v["position"])
    assert (first_visit["work_order_id"], first_visit["technician_id"]) == (day["second"], day["boiler"])


async def test_a_drag_to_not_planned_takes_the_visit_off_the_plan(
    client: httpx.AsyncClient,
    runtime: Runtime,
    admin: Any,
    agent: Any,
    make_staff: Any,
    open_ticket: Any,
    sign_in: Any,
) -> None:
    day = await _planned_day(client, runtime, admin, agent, make_staff, open_ticket)
    me = await sign_in("agent")
    form = {"_csrf": me.csrf, "work_order_id": day["first"], "technician_id": "", "position": "1"}
    moved = await client.post(f"/agent/dispatch/plans/{day['plan']}/moves", data=form, headers=JSON)
    assert moved.status_code == 200, moved.text
    plan = (await client.get(f"/api/v1/dispatch/plans/{day['plan']}", headers=agent.headers)).json()
    assert day["first"] in {u["work_order_id"] for u in plan["unscheduled"]}


async def test_a_drag_on_a_published_plan_is_refused_with_a_message_and_the_page_offers_no_dragging(
    client: httpx.AsyncClient,
    runtime: Runtime,
    admin: Any,
    agent: Any,
    make_staff: Any,
    open_ticket: Any,
    sign_in: Any,
) -> None:
    day = await _planned_day(client, runtime, admin, agent, make_staff, open_ticket)
    me = await sign_in("agent")
    editable = await client.get(f"/agent/dispatch?day={DAY}&plan={day['plan']}")
    assert 'id="plan-board"' in editable.text
    assert '<script src="/static/plan-drag.js" defer></script>' in editable.text
    assert f'data-order="{day["first"]}"' in editable.text
    published = await client.post(f"/agent/dispatch/plans/{day['plan']}/publish", data={"_csrf": me.csrf})
    assert published.status_code == 303
    form = {"_csrf": me.csrf, "work_order_id": day["first"], "technician_id": day["boiler"], "position": "2"}
    refused = await client.post(f"/agent/dispatch/plans/{day['plan']}/moves", data=form, headers=JSON)
    assert refused.status_code == 422
    assert refused.json() == {
        "message": f"plan {day['plan']} is published; only a done plan is edited",
        "violations": [],
    }
    assert "plan-drag.js" not in (await client.get(f"/agent/dispatch?day={DAY}&plan={day['plan']}")).text
    await runtime.queue.drain()  # type: ignore[attr-defined]


async def test_broken_rules_are_in_russian_for_a_russian_dispatcher(
    client: httpx.AsyncClient,
    runtime: Runtime,
    admin: Any,
    agent: Any,
    make_staff: Any,
    open_ticket: Any,
    sign_in: Any,
) -> None:
    day = await _planned_day(client, runtime, admin, agent, make_staff, open_ticket)
    me = await sign_in("agent")
    client.cookies.set("hd_lang", "ru")
    form = {
        "_csrf": me.csrf,
        "work_order_id": day["first"],
        "technician_id": day["electric"],
        "position": "1",
    }
    refused = await client.post(f"/agent/dispatch/plans/{day['plan']}/moves", data=form, headers=JSON)
    answer = refused.json()
    assert answer["message"].startswith("Не перемещено")
    assert "У техника нет навыка, нужного для этой работы" in {v["rule"] for v in answer["violations"]}
