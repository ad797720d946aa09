"""Technicians' job lists: ordered jobs with everything needed on the road; each technician sees their own."""

from __future__ import annotations

import asyncio

import pytest
from fieldkit import (
    DAY,
    drain_jobs,  # noqa: F401  (an autouse fixture)
    make_technician,
    make_work_order,
    plan_day,
    publish,
)

pytestmark = pytest.mark.integration


async def test_a_technicians_job_list_has_what_is_needed_on_site_and_only_they_and_dispatchers_see_it(  # type: ignore[no-untyped-def]
    client, runtime, admin, agent, make_staff, open_ticket
):
    tom, tom_tech = await make_technician(client, admin, make_staff)
    eve, eve_tech = await make_technician(
        client, admin, make_staff, name="Eve Electric", skills={"electrical": 1}
    )
    first = await make_work_order(client, agent, open_ticket, required_parts=["pump seal"])
    second = await make_work_order(client, agent, open_ticket, customer_email="zed@example.com")
    reply = await client.post(
        f"/api/v1/tickets/{first['ticket_id']}/messages",
        json={"body": "We will send a technician.", "kind": "public_reply"},
        headers=agent.headers,
    )
    assert reply.status_code == 201, reply.text
    await publish(client, runtime, agent, (await plan_day(client, runtime, agent))["id"])

    response = await client.get(f"/api/v1/dispatch/my-jobs?day={DAY}", headers=tom.headers)
    assert response.status_code == 200, response.text
    jobs = response.json()
    assert (jobs["technician_id"], jobs["technician_name"], jobs["day"]) == (tom_tech["id"], "Tom Tech", DAY)
    assert {j["work_order_id"] for j in jobs["jobs"]} == {first["id"], second["id"]}
    starts = [j["planned_start_at"] for j in jobs["jobs"]]
    assert starts == sorted(starts)
    job = next(j for j in jobs["jobs"] if j["work_order_id"] == first["id"])
    assert job["geo_uri"] == "geo:52.517000,13.389000"
    assert job["address"] == "Unter den Linden 1, Berlin"
    assert (job["contact_name"], job["contact_email"]) == ("Carla Customer", "carla@example.com")
    assert job["required_parts"] == ["pump seal"]
    assert (job["billing"], job["asset"]) == ("billable", None)
    assert job["summary"] == "Printer jams"
    assert [h["body"] for h in job["history"]] == ["Paper jams on page 2", "We will send a technician."]
    assert job["window_start_at"] <= job["planned_start_at"] < job["window_end_at"]

    same = await client.get(
        f"/api/v1/dispatch/technicians/{tom_tech['id']}/jobs?day={DAY}", headers=agent.headers
    )
    assert same.status_code == 200
    assert same.json()["jobs"] == jobs["jobs"]
    other = await client.get(
        f"/api/v1/dispatch/technicians/{tom_tech['id']}/jobs?day={DAY}", headers=eve.headers
    )
    assert other.status_code == 404
    own = await client.get(
        f"/api/v1/dispatch/technicians/{eve_tech['id']}/jobs?day={DAY}", headers=eve.headers
    )
    assert own.status_code == 200
    assert own.json()["jobs"] == []
    assert (await client.get("/api/v1/dispatch/my-jobs", headers=agent.headers)).status_code == 404
    assert (await client.get("/api/v1/dispatch/my-jobs")).status_code == 401


@pytest.mark.pool_of_one
async def test_a_technicians_job_list_with_history_is_served_by_a_pool_of_one_connection(  # type: ignore[no-untyped-def]
    client, runtime, admin, agent, make_staff, open_ticket
):
    tom, _ = await make_technician(client, admin, make_staff)
    await make_work_order(client, agent, open_ticket)
    await publish(client, runtime, agent, (await plan_day(client, runtime, agent))["id"])
    await runtime.queue.drain()

    # Asking for a second connection while holding the only one would wait out the pool's timeout.
    response = await asyncio.wait_for(
        client.get(f"/api/v1/dispatch/my-jobs?day={DAY}", headers=tom.headers), timeout=10
    )

    assert response.status_code == 200, response.text
    assert [h["body"] for h in response.json()["jobs"][0]["history"]] == ["Paper jams on page 2"]
