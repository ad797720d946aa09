"""The technician's phone page: signed in with the staff session, today's jobs, buttons that move a job."""

from __future__ import annotations

import re

import pytest
from fieldkit import (
    drain_jobs,  # noqa: F401  (an autouse fixture)
    make_technician,
    make_work_order,
    plan_day,
    publish,
    work_order,
)

pytestmark = pytest.mark.integration


def _csrf(html: str) -> str:
    match = re.search(r'name="_csrf" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


async def test_the_technician_signs_in_sees_todays_jobs_and_moves_one_to_completed(  # type: ignore[no-untyped-def]
    client, runtime, admin, agent, make_staff, open_ticket
):
    tech_staff, _ = await make_technician(client, admin, make_staff, password="correct horse battery")
    order = await make_work_order(client, agent, open_ticket, required_parts=["valve"])
    await publish(client, runtime, agent, (await plan_day(client, runtime, agent))["id"])

    assert (await client.get("/technician", follow_redirects=False)).status_code in (302, 303, 401)
    login = await client.post(
        "/api/v1/auth/login", json={"email": tech_staff.email, "password": "correct horse battery"}
    )
    assert login.status_code == 200, login.text
    cookie = {"Cookie": f"hd_session={login.cookies['hd_session']}"}
    client.cookies.clear()

    page = await client.get("/technician", headers=cookie)
    assert page.status_code == 200, page.text
    html = page.text
    assert f"WO-{order['id']}" in html
    assert "Unter den Linden 1, Berlin" in html
    assert "geo:52.517000,13.389000" in html
    assert "valve" in html
    assert "On my way" in html
    token = _csrf(html)

    current = await work_order(client, agent, order["id"])
    moved = await client.post(
        f"/technician/jobs/{order['id']}/status",
        data={"_csrf": token, "version": str(current["version"]), "status": "en_route"},
        headers=cookie,
        follow_redirects=False,
    )
    assert moved.status_code in (302, 303), moved.text
    assert (await work_order(client, agent, order["id"]))["status"] == "en_route"

    stale = await client.post(
        f"/technician/jobs/{order['id']}/status",
        data={"_csrf": token, "version": str(current["version"]), "status": "on_site"},
        headers=cookie,
    )
    assert stale.status_code == 409
    assert "changed by someone else" in stale.text

    forged = await client.post(
        f"/technician/jobs/{order['id']}/status",
        data={"_csrf": "forged", "version": str(current["version"] + 1), "status": "on_site"},
        headers=cookie,
    )
    assert forged.status_code == 403
    assert (await work_order(client, agent, order["id"]))["status"] == "en_route"

    current = await work_order(client, agent, order["id"])
    arrived = await client.post(
        f"/technician/jobs/{order['id']}/status",
        data={"_csrf": token, "version": str(current["version"]), "status": "on_site"},
        headers=cookie,
        follow_redirects=False,
    )
    assert arrived.status_code in (302, 303), arrived.text
    page = await client.get("/technician", headers=cookie)
    assert "Complete" in page.text
    current = await work_order(client, agent, order["id"])
    completed = await client.post(
        f"/technician/jobs/{order['id']}/complete",
        data={
            "_csrf": token,
            "version": str(current["version"]),
            "time_on_site_minutes": "40",
            "parts_used": "valve, gasket",
            "notes": "Fixed",
            "signoff_name": "Carla Customer",
            "all_done": "yes",
        },
        headers=cookie,
        follow_redirects=False,
    )
    assert completed.status_code in (302, 303), completed.text
    done = await work_order(client, agent, order["id"])
    assert (done["status"], done["parts_used"], done["time_on_site_minutes"]) == (
        "completed",
        ["valve", "gasket"],
        40,
    )
