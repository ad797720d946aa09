"""Work orders through the API: created from a ticket, planned, worked by the technician, mirrored on the ticket."""

from __future__ import annotations

from typing import Any

import pytest
from fieldkit import (
    drain_jobs,  # noqa: F401  (an autouse fixture)
    make_technician,
    make_work_order,
    plan_day,
    publish,
    step,
    work_order,
)

pytestmark = pytest.mark.integration


async def _ticket(client: Any, agent: Any, ticket_id: int) -> dict[str, Any]:
    response = await client.get(f"/api/v1/tickets/{ticket_id}", headers=agent.headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_a_work_order_runs_its_lifecycle_and_each_step_is_an_internal_note_on_the_ticket(  # type: ignore[no-untyped-def]
    client, runtime, admin, agent, make_staff, open_ticket
):
    tech_staff, tech = await make_technician(client, admin, make_staff)
    order = await make_work_order(client, agent, open_ticket)
    assert order["status"] == "unscheduled"
    assert order["billing"] == "billable"
    assert "no asset" in order["billing_reason"]
    plan = await plan_day(client, runtime, agent)
    assert plan["status"] == "done", plan
    assert [v["work_order_id"] for v in plan["visits"]] == [order["id"]]
    await publish(client, runtime, agent, plan["id"])
    order = await work_order(client, tech_staff, order["id"])
    assert order["status"] == "dispatched"
    assert order["technician_id"] == tech["id"]
    assert order["window_start_at"] <= order["planned_start_at"] < order["window_end_at"]

    response = await step(client, tech_staff, order, "en_route")
    assert response.status_code == 200, response.text
    response = await step(client, tech_staff, response.json(), "on_site")
    assert response.status_code == 200, response.text
    on_site = response.json()
    response = await client.post(
        f"/api/v1/dispatch/work-orders/{order['id']}/completion",
        json={
            "version": on_site["version"],
            "time_on_site_minutes": 45,
            "parts_used": ["pump seal"],
            "notes": "Replaced the seal.",
            "signoff_name": "Carla Customer",
        },
        headers=tech_staff.headers,
    )
    assert response.status_code == 200, response.text
    done = response.json()
    assert done["status"] == "completed"
    assert (done["time_on_site_minutes"], done["parts_used"], done["signoff_name"]) == (
        45,
        ["pump seal"],
        "Carla Customer",
    )
    await runtime.queue.drain()  # type: ignore[attr-defined]

    ticket = await _ticket(client, agent, order["ticket_id"])
    assert ticket["status"] == "resolved"
    notes = [m["body_text"] for m in ticket["messages"] if m["kind"] == "internal_note"]
    assert any("created" in n for n in notes)
    assert any("billable" in n and "no asset" in n for n in notes)
    assert any("planned" in n for n in notes)
    assert any("dispatched → en_route" in n for n in notes)
    assert any("en_route → on_site" in n for n in notes)
    assert any("on_site → completed" in n and "pump seal" in n and "Carla Customer" in n for n in notes)
    audit = await work_order(client, agent, order["id"])
    assert [e["field"] for e in audit["events"]][:2] == ["created", "billing"]
    assert [e["new_value"] for e in audit["events"] if e["field"] == "status"] == [
        "en_route",
        "on_site",
        "completed",
    ]


async def test_a_visit_with_work_left_adds_a_note_and_leaves_the_ticket_open(  # type: ignore[no-untyped-def]
    client, runtime, admin, agent, make_staff, open_ticket
):
    tech_staff, _ = await make_technician(client, admin, make_staff)
    order = await make_work_order(client, agent, open_ticket)
    await publish(client, runtime, agent, (await plan_day(client, runtime, agent))["id"])
    order = await work_order(client, tech_staff, order["id"])
    order = (await step(client, tech_staff, order, "en_route")).json()
    order = (await step(client, tech_staff, order, "on_site")).json()
    response = await client.post(
        f"/api/v1/dispatch/work-orders/{order['id']}/completion",
        json={"version": order["version"], "all_done": False, "notes": "Needs a new valve"},
        headers=tech_staff.headers,
    )
    assert response.status_code == 200, response.text
    await runtime.queue.drain()  # type: ignore[attr-defined]
    ticket = await _ticket(client, agent, order["ticket_id"])
    assert ticket["status"] != "resolved"
    assert any("NOT all work is done" in m["body_text"] for m in ticket["messages"])


async def test_an_illegal_step_is_422_a_stale_version_409_and_cannot_complete_needs_a_reason(  # type: ignore[no-untyped-def]
    client, runtime, admin, agent, make_staff, open_ticket
):
    tech_staff, _ = await make_technician(client, admin, make_staff)
    order = await make_work_order(client, agent, open_ticket)
    response = await step(client, agent, order, "on_site")
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_transition"
    await publish(client, runtime, agent, (await plan_day(client, runtime, agent))["id"])
    stale = order
    response = await step(client, tech_staff, stale, "en_route")
    assert response.status_code == 409
    assert response.json()["code"] == "stale_version"
    order = await work_order(client, tech_staff, order["id"])
    order = (await step(client, tech_staff, order, "en_route")).json()
    response = await step(client, tech_staff, order, "cannot_complete")
    assert response.status_code == 422
    assert response.json()["field"] == "reason"
    response = await step(client, tech_staff, order, "cannot_complete", reason="Nobody home")
    assert response.status_code == 200, response.text
    assert response.json()["outcome_reason"] == "Nobody home"
    response = await step(client, tech_staff, response.json(), "cancelled", reason="x")
    assert response.status_code in (403, 422)


async def test_a_technician_cannot_act_on_someone_elses_work_order(  # type: ignore[no-untyped-def]
    client, runtime, admin, agent, make_staff, open_ticket
):
    await make_technician(client, admin, make_staff)
    other, _ = await make_technician(client, admin, make_staff, name="Olga Other", skills={"electrical": 1})
    order = await make_work_order(client, agent, open_ticket)
    await publish(client, runtime, agent, (await plan_day(client, runtime, agent))["id"])
    order = await work_order(client, agent, order["id"])
    assert (await step(client, other, order, "en_route")).status_code == 404
    assert (
        await client.get(f"/api/v1/dispatch/work-orders/{order['id']}", headers=other.headers)
    ).status_code == 404


async def test_the_asset_decides_location_and_warranty_and_the_deadline_is_the_tickets(  # type: ignore[no-untyped-def]
    client, admin, agent, open_ticket
):
    asset = await client.post(
        "/api/v1/dispatch/assets",
        json={
            "serial_number": "BX-1001",
            "product": "Boiler X",
            "site_address": "Alexanderplatz 1, Berlin",
            "lat": 52.5219,
            "lon": 13.4132,
            "installed_on": "2026-01-10",
            "warranty_until": "2028-01-09",
            "warranty_terms": "2 years parts and labour",
        },
        headers=admin.headers,
    )
    assert asset.status_code == 201, asset.text
    again = await client.post(
        "/api/v1/dispatch/assets", json={**asset.json(), "id": None}, headers=admin.headers
    )
    assert again.status_code in (400, 409)
    ticket = await open_ticket(agent.headers, customer_email="dora@example.com")
    response = await client.post(
        "/api/v1/dispatch/work-orders",
        json={"ticket_id": ticket["id"], "asset_serial": "BX-1001", "duration_minutes": 30},
        headers=agent.headers,
    )
    assert response.status_code == 201, response.text
    order = response.json()
    assert (order["billing"], order["address"], order["lat"]) == (
        "warranty",
        "Alexanderplatz 1, Berlin",
        52.5219,
    )
    assert "2 years parts and labour" in order["billing_reason"]
    assert order["deadline_at"] == ticket["resolution_due_at"]
    detail = await work_order(client, agent, order["id"])
    billing = [e for e in detail["events"] if e["field"] == "billing"]
    assert billing[0]["new_value"] == "warranty"
    assert "in warranty until 2028-01-09" in billing[0]["note"]


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"location": {"address": "x", "lat": 91, "lon": 13}}, 400, "location.lat"),
        ({"location": {"address": "x", "lat": 52, "lon": -181}}, 400, "location.lon"),
        (
            {"windows": [{"start_at": "2027-03-01T12:00:00Z", "end_at": "2027-03-01T10:00:00Z"}]},
            422,
            "windows[0]",
        ),
        ({"required_skills": {"underwater-welding": 1}}, 422, "required_skills.underwater-welding"),
        ({"duration_minutes": 0}, 400, "duration_minutes"),
        ({"location": None}, 422, "location"),
        ({"asset_serial": "NOPE"}, 422, "asset_serial"),
    ],
    ids=[
        "latitude",
        "longitude",
        "window-ends-before-start",
        "unknown-skill",
        "no-duration",
        "no-location",
        "unknown-asset",
    ],
)
async def test_bad_work_order_input_is_a_4xx_naming_the_field(  # type: ignore[no-untyped-def]
    client, admin, agent, open_ticket, change, status, field
):
    ticket = await open_ticket(agent.headers, customer_email="erin@example.com")
    body = {
        "ticket_id": ticket["id"],
        "location": {"address": "Unter den Linden 1, Berlin", "lat": 52.517, "lon": 13.389},
        "duration_minutes": 60,
        **change,
    }
    response = await client.post("/api/v1/dispatch/work-orders", json=body, headers=agent.headers)
    assert response.status_code == status, response.text
    assert response.json()["field"] == field, response.json()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"hours": {"timezone": "UTC", "week": {}}}, "hours.week"),
        ({"hours": {"timezone": "Mars/Olympus", "week": {"mon": ["08:00-17:00"]}}}, "hours.timezone"),
        ({"skills": {"juggling": 1}}, "skills.juggling"),
        ({"home_lat": 100}, "home_lat"),
        ({"lunch_window": "14:00-12:00"}, "lunch_window"),
    ],
    ids=["no-hours", "unknown-zone", "unknown-skill", "latitude", "lunch-window-inverted"],
)
async def test_bad_technician_input_is_a_4xx_naming_the_field(client, admin, make_staff, change, field):  # type: ignore[no-untyped-def]
    staff = await make_staff("technician")
    body = {
        "user_id": staff.id,
        "home_lat": 52.5,
        "home_lon": 13.4,
        "hours": {"timezone": "UTC", "week": {"mon": ["08:00-17:00"]}},
        **change,
    }
    response = await client.post("/api/v1/dispatch/technicians", json=body, headers=admin.headers)
    assert response.status_code in (400, 422), response.text
    assert response.json()["field"] == field, response.json()


async def test_an_agent_is_not_a_technician(client, admin, agent):  # type: ignore[no-untyped-def]
    body = {
        "user_id": agent.id,
        "home_lat": 52.5,
        "home_lon": 13.4,
        "hours": {"week": {"mon": ["08:00-17:00"]}},
    }
    response = await client.post("/api/v1/dispatch/technicians", json=body, headers=admin.headers)
    assert response.status_code == 422
    assert response.json()["field"] == "user_id"


async def test_an_order_longer_than_any_shift_stays_unscheduled_with_that_reason(  # type: ignore[no-untyped-def]
    client, runtime, admin, agent, make_staff, open_ticket
):
    await make_technician(client, admin, make_staff)
    order = await make_work_order(client, agent, open_ticket, duration_minutes=11 * 60)
    plan = await plan_day(client, runtime, agent)
    assert [(u["work_order_id"], u["reason"]) for u in plan["unscheduled"]] == [
        (order["id"], "duration_exceeds_shift")
    ]
    await publish(client, runtime, agent, plan["id"])
    order = await work_order(client, agent, order["id"])
    assert order["status"] == "unscheduled"
    assert order["unscheduled_reason"].startswith("duration_exceeds_shift")
