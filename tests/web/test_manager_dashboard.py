"""The managers' dashboard: charts as SVG, the live list, CSV exports; agents are kept out."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
from sqlalchemy import event

from helpdesk.runtime import Runtime
from helpdesk.web.manager import DASHBOARD_READS


async def test_manager_sees_charts_and_downloads_each_csv(
    client: httpx.AsyncClient, sign_in: Any, agent: Any
) -> None:
    for subject in ("Printer jams", "VPN down"):
        response = await client.post(
            "/api/v1/tickets",
            json={"subject": subject, "description": "x", "customer_email": "bob@example.com"},
            headers=agent.headers,
        )
        assert response.status_code == 201
    await sign_in("manager")
    page = await client.get("/manager?days=7")
    assert page.status_code == 200, page.text
    assert page.text.count("<svg") >= 4
    assert "<script" not in page.text.split("</svg>")[0].split("<svg", 1)[1]
    for chart in ("compliance", "alerts", "backlog", "times", "satisfaction", "field"):
        exported = await client.get(f"/manager/export/{chart}.csv?days=7")
        assert exported.status_code == 200, (chart, exported.text)
        assert exported.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(exported.text)))
        assert rows, chart
        assert rows[0], chart
    backlog = list(csv.reader(io.StringIO((await client.get("/manager/export/backlog.csv")).text)))
    assert ["—", "P3", "2"] in backlog


async def test_agents_cannot_open_the_dashboard(client: httpx.AsyncClient, sign_in: Any) -> None:
    await sign_in("agent")
    response = await client.get("/manager")
    assert response.status_code == 403
    assert "<html" in response.text


async def test_the_dashboard_holds_at_most_four_connections_at_a_time(
    client: httpx.AsyncClient, sign_in: Any, runtime: Runtime
) -> None:
    held, most = 0, 0

    def checked_out(*_: Any) -> None:
        nonlocal held, most
        held += 1
        most = max(most, held)

    def checked_in(*_: Any) -> None:
        nonlocal held
        held -= 1

    await sign_in("manager")
    event.listen(runtime.engine.sync_engine, "checkout", checked_out)
    event.listen(runtime.engine.sync_engine, "checkin", checked_in)
    try:
        page = await client.get("/manager?days=30")
    finally:
        event.remove(runtime.engine.sync_engine, "checkout", checked_out)
        event.remove(runtime.engine.sync_engine, "checkin", checked_in)

    assert page.status_code == 200, page.text
    # Nine figures, read four at a time (several connections at once: the reads do overlap).
    assert 1 < most <= DASHBOARD_READS == 4
