"""A job list holds one database connection at a time: with every pooled connection taken by such requests,
none may wait for a second one (the pool has no overflow by default)."""

from __future__ import annotations

import asyncio

import msgspec
import pytest
from fieldkit import (
    DAY,
    drain_jobs,  # noqa: F401  (an autouse fixture)
    make_technician,
    make_work_order,
    plan_day,
    publish,
)

from helpdesk.core.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # One pooled connection (PostgreSQL; SQLite pools by its own rules): a request that asked for a second
    # while holding the first would wait for itself until the pool's timeout.
    return msgspec.structs.replace(settings, database_pool_size=1, database_max_overflow=0)


async def test_a_technicians_job_list_with_history_is_served_by_a_pool_of_one_connection(  # type: ignore[no-untyped-def]
    client, runtime, admin, agent, make_staff, open_ticket
):
    tom, _ = await make_technician(client, admin, make_staff)
    await make_work_order(client, agent, open_ticket)
    await publish(client, runtime, agent, (await plan_day(client, runtime, agent))["id"])
    await runtime.queue.drain()

    response = await asyncio.wait_for(
        client.get(f"/api/v1/dispatch/my-jobs?day={DAY}", headers=tom.headers), timeout=10
    )

    assert response.status_code == 200, response.text
    assert [h["body"] for h in response.json()["jobs"][0]["history"]] == ["Paper jams on page 2"]
