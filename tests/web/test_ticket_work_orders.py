"""The ticket page's field service panel: asset, warranty and contracts, and a work order in one step."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fieldweb import make_skill

from helpdesk.runtime import Runtime

pytestmark = pytest.mark.integration


async def test_an_agent_creates_a_work_order_from_the_ticket_page_and_sees_it_with_its_warranty(
    client: httpx.AsyncClient, runtime: Runtime, admin: Any, agent: Any, open_ticket: Any, sign_in: Any
) -> None:
    await make_skill(client, admin, "boiler")
    asset = await client.post(
        "/api/v1/dispatch/assets",
        json={
            "serial_number": "SN-1",
            "product": "Boiler 3000",
            "site_address": "Hauptstr. 1, Berlin",
            "lat": 52.5,
            "lon": 13.4,
            "warranty_until": "2030-01-01",
        },
        headers=admin.headers,
    )
    assert asset.status_code == 201, asset.text
    ticket = await open_ticket(agent.headers, customer_email="carla@example.com", customer_name="Carla")
    me = await sign_in("agent")
    page = await client.get(f"/agent/tickets/{ticket['id']}")
    assert page.status_code == 200
    assert "Create a work order" in page.text
    assert "No asset named yet." in page.text

    bad = await client.post(
        f"/agent/tickets/{ticket['id']}/work-orders",
        data={"_csrf": me.csrf, "duration_minutes": "0", "required_skills": "boiler:2"},
    )
    assert bad.status_code == 422
    assert 'id="wo-duration_minutes-error">must be at least 1</p>' in bad.text
    nowhere = await client.post(
        f"/agent/tickets/{ticket['id']}/work-orders",
        data={"_csrf": me.csrf, "duration_minutes": "60", "required_skills": "boiler"},
    )
    assert nowhere.status_code == 422
    assert 'id="wo-address-error">give the site' in nowhere.text

    done = await client.post(
        f"/agent/tickets/{ticket['id']}/work-orders",
        data={
            "_csrf": me.csrf,
            "duration_minutes": "90",
            "required_skills": "boiler:2",
            "asset_serial": "SN-1",
            "window_start": "2027-03-01T09:00",
            "window_end": "2027-03-01T12:00",
        },
    )
    assert done.status_code == 303, done.text
    shown = await client.get(done.headers["location"])
    assert "WO-" in shown.text
    assert "Boiler 3000" in shown.text
    assert "In warranty" in shown.text
    orders = await client.get(f"/api/v1/dispatch/work-orders?ticket_id={ticket['id']}", headers=agent.headers)
    [order] = orders.json()
    assert (order["billing"], order["duration_minutes"], order["required_skills"]) == (
        "warranty",
        90,
        {"boiler": 2},
    )
    assert order["windows"] == [{"start_at": "2027-03-01T09:00:00Z", "end_at": "2027-03-01T12:00:00Z"}]
    await runtime.queue.drain()  # type: ignore[attr-defined]
