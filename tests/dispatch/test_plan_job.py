"""Day planning as a job: a reviewable plan, validated manual moves, publishing that tells customers, re-planning."""

from __future__ import annotations

from typing import Any

import pytest
from fieldkit import (
    DAY,
    drain_jobs,  # noqa: F401  (an autouse fixture)
    make_skill,
    make_technician,
    make_work_order,
    plan_day,
    publish,
    step,
    work_order,
)
from sqlalchemy import select

from helpdesk.notifications.models import OutgoingMail

pytestmark = pytest.mark.integration


async def _appointment_mails(runtime: Any) -> list[OutgoingMail]:
    async with runtime.sessions() as session:
        return list(
            await session.scalars(select(OutgoingMail).where(OutgoingMail.kind == "field_appointment"))
        )


async def test_the_plan_job_reports_progress_and_a_reviewable_plan_with_reasons(  # type: ignore[no-untyped-def]
    client, runtime, admin, agent, make_staff, open_ticket
):
    _, tech = await make_technician(client, admin, make_staff)
    await make_skill(client, admin, "roofing")
    served = await make_work_order(client, agent, open_ticket)
    nobody = await make_work_order(client, agent, open_ticket, required_skills={"roofing": 1})
    elsewhere = await make_work_order(
        client,
        agent,
        open_ticket,
        windows=[{"start_at": "2027-03-05T09:00:00Z", "end_at": "2027-03-05T12:00:00Z"}],
    )
    plan = await plan_day(client, runtime, agent, time_limit=1)
    assert plan["status"] == "done"
    assert (plan["version"], plan["technician_count"], plan["order_count"]) == (1, 1, 3)
    assert (plan["served_count"], plan["unscheduled_count"]) == (1, 2)
    assert [(v["work_order_id"], v["technician_id"]) for v in plan["visits"]] == [(served["id"], tech["id"])]
    reasons = {u["work_order_id"]: u["reason"] for u in plan["unscheduled"]}
    assert reasons == {nobody["id"]: "no_skilled_technician", elsewhere["id"]: "no_window_fits"}
    again = await plan_day(client, runtime, agent)
    assert again["version"] == 2
    listed = await client.get(f"/api/v1/dispatch/plans?day={DAY}", headers=agent.headers)
    assert [p["version"] for p in listed.json()] == [2, 1]


async def test_a_manual_move_is_validated_and_publishing_tells_each_customer_once(  # type: ignore[no-untyped-def]
    client, runtime, admin, agent, make_staff, open_ticket
):
    _, boiler_tech = await make_technician(client, admin, make_staff)
    _, electrician = await make_technician(
        client, admin, make_staff, name="Eve Electric", skills={"electrical": 2}
    )
    first = await make_work_order(client, agent, open_ticket, customer_email="first@example.com")
    second = await make_work_order(client, agent, open_ticket, customer_email="second@example.com")
    plan = await plan_day(client, runtime, agent)
    assert {v["technician_id"] for v in plan["visits"]} == {boiler_tech["id"]}

    bad = await client.post(
        f"/api/v1/dispatch/plans/{plan['id']}/moves",
        json={"work_order_id": first["id"], "technician_id": electrician["id"], "position": 0},
        headers=agent.headers,
    )
    assert bad.status_code == 422, bad.text
    assert bad.json()["code"] == "invalid_move"
    assert "skill" in bad.json()["detail"]

    moved = await client.post(
        f"/api/v1/dispatch/plans/{plan['id']}/moves",
        json={"work_order_id": second["id"], "technician_id": boiler_tech["id"], "position": 0},
        headers=agent.headers,
    )
    assert moved.status_code == 200, moved.text
    order = [v["work_order_id"] for v in sorted(moved.json()["visits"], key=lambda v: v["position"])]
    assert order == [second["id"], first["id"]]

    unplanned = await client.post(
        f"/api/v1/dispatch/plans/{plan['id']}/moves",
        json={"work_order_id": first["id"], "technician_id": None},
        headers=agent.headers,
    )
    assert unplanned.status_code == 200, unplanned.text
    assert [u["work_order_id"] for u in unplanned.json()["unscheduled"]] == [first["id"]]
    back = await client.post(
        f"/api/v1/dispatch/plans/{plan['id']}/moves",
        json={"work_order_id": first["id"], "technician_id": boiler_tech["id"], "position": 5},
        headers=agent.headers,
    )
    assert back.status_code == 200, back.text

    published = await publish(client, runtime, agent, plan["id"])
    assert published["status"] == "published"
    mails = await _appointment_mails(runtime)
    assert sorted(m.to_address for m in mails) == ["first@example.com", "second@example.com"]
    body = next(m.body_text for m in mails if m.to_address == "second@example.com")
    second_now = await work_order(client, agent, second["id"])
    assert "Tom Tech" in body
    assert f"{second_now['window_start_at'][11:16]} and {second_now['window_end_at'][11:16]}" in body

    edit = await client.post(
        f"/api/v1/dispatch/plans/{plan['id']}/moves",
        json={"work_order_id": first["id"], "technician_id": None},
        headers=agent.headers,
    )
    assert edit.status_code == 422
    assert edit.json()["code"] == "invalid_transition"
    # Publishing a new plan mails only the customers whose arrival window changed.
    windows = {
        o["id"]: (await work_order(client, agent, o["id"]))["window_start_at"] for o in (first, second)
    }
    again = await plan_day(client, runtime, agent)
    await publish(client, runtime, agent, again["id"])
    changed = [i for i, w in windows.items() if (await work_order(client, agent, i))["window_start_at"] != w]
    assert len(await _appointment_mails(runtime)) == len(mails) + len(changed)
    third = await plan_day(client, runtime, agent)
    await publish(client, runtime, agent, third["id"])
    assert len(await _appointment_mails(runtime)) == len(mails) + len(changed)


async def test_a_replan_keeps_started_work_and_inserts_an_emergency(  # type: ignore[no-untyped-def]
    client, runtime, clock, admin, agent, make_staff, open_ticket
):
    tech_staff, tech = await make_technician(client, admin, make_staff)
    orders = [
        await make_work_order(client, agent, open_ticket, customer_email=f"c{i}@example.com")
        for i in range(3)
    ]
    plan = await plan_day(client, runtime, agent)
    await publish(client, runtime, agent, plan["id"])
    visits = sorted(plan["visits"], key=lambda v: v["position"])
    first = await work_order(client, tech_staff, visits[0]["work_order_id"])
    first = (await step(client, tech_staff, first, "en_route")).json()
    first = (await step(client, tech_staff, first, "on_site")).json()

    emergency = await make_work_order(
        client, agent, open_ticket, customer_email="flood@example.com", priority=1
    )
    response = await client.post(
        f"/api/v1/dispatch/plans/{plan['id']}/replan",
        json={"emergency_work_order_ids": [emergency["id"]], "time_limit_seconds": 1},
        headers=agent.headers,
    )
    assert response.status_code == 202, response.text
    await runtime.queue.drain()  # type: ignore[attr-defined]
    replanned = (
        await client.get(f"/api/v1/dispatch/plans/{response.json()['id']}", headers=agent.headers)
    ).json()
    assert (replanned["status"], replanned["kind"], replanned["version"]) == ("done", "replan", 2), replanned
    kept = next(v for v in replanned["visits"] if v["work_order_id"] == first["id"])
    assert (kept["technician_id"], kept["position"], kept["start_at"]) == (
        tech["id"],
        0,
        visits[0]["start_at"],
    )
    assert emergency["id"] in {v["work_order_id"] for v in replanned["visits"]}
    assert {v["work_order_id"] for v in replanned["visits"]} | {
        u["work_order_id"] for u in replanned["unscheduled"]
    } == {o["id"] for o in orders} | {emergency["id"]}
    await publish(client, runtime, agent, replanned["id"])
    assert (await work_order(client, agent, first["id"]))["status"] == "on_site"
    assert (await work_order(client, agent, emergency["id"]))["status"] == "dispatched"
    old = (await client.get(f"/api/v1/dispatch/plans/{plan['id']}", headers=agent.headers)).json()
    assert old["status"] == "superseded"


async def test_only_a_published_plan_is_replanned_and_a_technician_cannot_plan(  # type: ignore[no-untyped-def]
    client, runtime, admin, agent, make_staff
):
    tech_staff, _ = await make_technician(client, admin, make_staff)
    plan = await plan_day(client, runtime, agent)
    response = await client.post(
        f"/api/v1/dispatch/plans/{plan['id']}/replan", json={}, headers=agent.headers
    )
    assert response.status_code == 422
    response = await client.post("/api/v1/dispatch/plans", json={"day": DAY}, headers=tech_staff.headers)
    assert response.status_code == 403
