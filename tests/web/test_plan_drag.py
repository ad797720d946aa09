"""Drag and drop on the dispatcher's page, over HTTP: the script sends the row's Move form asking for JSON; the
plan service validates the move; a refused move answers 422 with each broken rule in words.

Each test starts from the ``planned_day``: Tom Tech (boiler) and Eve Electric (electrical only), two boiler jobs,
the day planned; the ``dispatcher`` is an agent signed in on the page."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fieldweb import DAY, FieldDesk, PlannedDay, move_visit
from webkit import WebStaff

pytestmark = pytest.mark.integration
JSON = {"Accept": "application/json"}


async def drag(
    client: httpx.AsyncClient, me: WebStaff, day: PlannedDay, order: int, technician: int | str, position: int
) -> httpx.Response:
    """What plan-drag.js sends for a drop: the Move form, answered in JSON (``technician=""``: 'Not planned')."""
    return await move_visit(client, me.csrf, day.plan, order, technician, position, headers=JSON)


async def test_a_refused_drag_answers_422_with_each_broken_rule_in_words_and_leaves_the_plan(
    client: httpx.AsyncClient, field_desk: FieldDesk, planned_day: PlannedDay, dispatcher: WebStaff
) -> None:
    before = await field_desk.read_plan(planned_day.plan)

    refused = await drag(client, dispatcher, planned_day, planned_day.first, planned_day.electric, 1)

    assert refused.status_code == 422
    answer = refused.json()
    assert answer["message"].startswith("Not moved: the plan would break")
    skill = next(v for v in answer["violations"] if v["code"] == "skill")
    assert skill == {
        "code": "skill",
        "rule": "The technician lacks a skill this job needs",
        "work_order": f"WO-{planned_day.first}",
        "technician": "Eve Electric",
        "detail": "needs boiler ≥ 1",
    }
    assert (await field_desk.read_plan(planned_day.plan))["visits"] == before["visits"]


async def test_an_accepted_drag_moves_the_visit_and_answers_with_the_page_to_show(
    client: httpx.AsyncClient, field_desk: FieldDesk, planned_day: PlannedDay, dispatcher: WebStaff
) -> None:
    day = planned_day

    moved = await drag(client, dispatcher, day, day.second, day.boiler, 1)

    assert moved.status_code == 200, moved.text
    assert moved.json() == {
        "url": f"/agent/dispatch?day={DAY}&plan={day.plan}&moved={day.second}#wo-{day.second}"
    }
    first_visit = min((await field_desk.read_plan(day.plan))["visits"], key=lambda v: v["position"])
    assert (first_visit["work_order_id"], first_visit["technician_id"]) == (day.second, day.boiler)


async def test_a_drag_to_not_planned_takes_the_visit_off_the_plan(
    client: httpx.AsyncClient, field_desk: FieldDesk, planned_day: PlannedDay, dispatcher: WebStaff
) -> None:
    moved = await drag(client, dispatcher, planned_day, planned_day.first, "", 1)

    assert moved.status_code == 200, moved.text
    plan = await field_desk.read_plan(planned_day.plan)
    assert planned_day.first in {u["work_order_id"] for u in plan["unscheduled"]}


async def test_a_drag_on_a_published_plan_is_refused_with_a_message_and_the_page_offers_no_dragging(
    client: httpx.AsyncClient, runtime: Any, planned_day: PlannedDay, dispatcher: WebStaff
) -> None:
    day = planned_day
    editable = await client.get(f"/agent/dispatch?day={DAY}&plan={day.plan}")
    assert 'id="plan-board"' in editable.text
    assert '<script src="/static/plan-drag.js" defer></script>' in editable.text
    assert f'data-order="{day.first}"' in editable.text
    published = await client.post(
        f"/agent/dispatch/plans/{day.plan}/publish", data={"_csrf": dispatcher.csrf}
    )
    assert published.status_code == 303

    refused = await drag(client, dispatcher, day, day.first, day.boiler, 2)

    assert refused.status_code == 422
    assert refused.json() == {
        "message": f"plan {day.plan} is published; only a done plan is edited",
        "violations": [],
    }
    assert "plan-drag.js" not in (await client.get(f"/agent/dispatch?day={DAY}&plan={day.plan}")).text
    await runtime.queue.drain()


async def test_broken_rules_are_in_russian_for_a_russian_dispatcher(
    client: httpx.AsyncClient, planned_day: PlannedDay, dispatcher: WebStaff
) -> None:
    client.cookies.set("hd_lang", "ru")

    refused = await drag(client, dispatcher, planned_day, planned_day.first, planned_day.electric, 1)

    answer = refused.json()
    assert answer["message"].startswith("Не перемещено")
    assert "У техника нет навыка, нужного для этой работы" in {v["rule"] for v in answer["violations"]}
