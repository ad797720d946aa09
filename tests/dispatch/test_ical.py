"""The technician's calendar feed: a secret URL, one event per job, parsed with the icalendar package."""

from __future__ import annotations

from datetime import datetime

import pytest
from fieldkit import (
    drain_jobs,  # noqa: F401  (an autouse fixture)
    make_technician,
    make_work_order,
    plan_day,
    publish,
)
from icalendar import Calendar

pytestmark = pytest.mark.integration


async def test_the_calendar_feed_has_one_event_per_job_and_a_wrong_or_rotated_token_is_refused(  # type: ignore[no-untyped-def]
    client, runtime, admin, agent, make_staff, open_ticket
):
    _, tech = await make_technician(client, admin, make_staff)
    url = tech["ical_url"]
    assert url.startswith("http://testserver.local/dispatch/ical/")
    assert url.endswith(".ics")
    path = url.removeprefix("http://testserver.local")
    orders = [await make_work_order(client, agent, open_ticket, required_parts=["fuse"]) for _ in range(2)]
    await publish(client, runtime, agent, (await plan_day(client, runtime, agent))["id"])

    response = await client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 2
    for event in events:
        assert str(event["location"]) == "Unter den Linden 1, Berlin"
        geo = event["geo"]
        assert (round(geo.latitude, 3), round(geo.longitude, 3)) == (52.517, 13.389)
        assert "Parts: fuse" in str(event["description"])
        assert "Customer: Carla Customer" in str(event["description"])
        assert isinstance(event.decoded("dtstart"), datetime)
        assert event.decoded("dtstart") < event.decoded("dtend")
    assert {str(e["summary"]).split(":")[0] for e in events} == {f"WO-{o['id']}" for o in orders}

    assert (await client.get("/dispatch/ical/not-the-token.ics")).status_code == 404
    rotated = await client.post(
        f"/api/v1/dispatch/technicians/{tech['id']}/ical-token", headers=admin.headers
    )
    assert rotated.status_code == 201, rotated.text
    assert (await client.get(path)).status_code == 404
    fresh = rotated.json()["ical_url"].removeprefix("http://testserver.local")
    assert (await client.get(fresh)).status_code == 200
    shown = await client.get(f"/api/v1/dispatch/technicians/{tech['id']}", headers=admin.headers)
    assert shown.json()["ical_url"] is None  # the secret is shown once
