"""Technician utilisation and travel share on the manager's dashboard, from published plans, with its CSV."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fieldweb import FieldDesk

from helpdesk.reports.utilisation import technician_loads


def test_utilisation_is_work_of_duty_without_lunch_and_travel_share_is_driving_of_driving_and_work() -> None:
    routes = [
        {"7": {"departure": 0, "return": 9 * 3600, "lunch": [4 * 3600, 5 * 3600], "travel_seconds": 3600}}
    ]
    [load] = technician_loads({7: "Tom"}, routes, {7: 4 * 3600})
    assert (load.on_duty_minutes, load.work_minutes, load.travel_minutes) == (480, 240, 60)
    assert (load.utilisation_percent, load.travel_share_percent) == (50.0, 20.0)
    assert technician_loads({}, [], {}) == []


@pytest.mark.integration
async def test_the_dashboard_shows_utilisation_of_a_published_day_and_exports_it(
    client: httpx.AsyncClient, field_desk: FieldDesk, sign_in: Any
) -> None:
    await field_desk.technician(name="Tom Tech")
    await field_desk.work_order()  # one hour
    await field_desk.publish(await field_desk.plan())
    await sign_in("manager")

    page = await client.get("/manager?days=7")
    assert page.status_code == 200
    assert "Technician utilisation and travel share" in page.text
    csv = await client.get("/manager/export/utilisation.csv?days=7")
    header, row = csv.text.strip().splitlines()
    assert header.startswith("technician,days,on_duty_minutes,work_minutes,travel_minutes")
    assert row.startswith("Tom Tech,1,")
    assert int(row.split(",")[3]) == 60
