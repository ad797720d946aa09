"""``helpdesk reports recount`` through the real command group."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, func, insert, select

from helpdesk.cli import main
from helpdesk.customers.models import Customer
from helpdesk.reports.models import BacklogCount
from helpdesk.runtime import Runtime
from helpdesk.tickets.models import Ticket

pytestmark = pytest.mark.integration

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def run(runtime: Runtime, *args: str) -> Any:
    env = {"HELPDESK_DATABASE_URL": runtime.settings.database_url}
    return CliRunner().invoke(main, ["reports", *args], env=env)


async def test_recount_restores_counters_a_bulk_load_left_empty(runtime: Runtime) -> None:
    async with runtime.sessions() as session, session.begin():
        customer = (
            await session.execute(
                insert(Customer).values(email="c@example.com", created_at=START).returning(Customer.id)
            )
        ).scalar_one()
        for n in range(3):
            await session.execute(
                insert(Ticket).values(
                    subject=f"Ticket {n}",
                    status="open",
                    priority="P3",
                    channel="web",
                    customer_id=customer,
                    tracking_token=f"token-{n}",
                    version=1,
                    created_at=START,
                    updated_at=START,
                )
            )
        # As if the tickets had been loaded with the triggers off.
        await session.execute(delete(BacklogCount))
    result = await asyncio.to_thread(run, runtime, "recount")
    assert result.exit_code == 0, result.output
    assert "recounted" in result.output
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.sum(BacklogCount.tickets))) == 3
