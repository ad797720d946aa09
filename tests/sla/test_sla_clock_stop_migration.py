"""Migration 0014_sla_clock_stopped stops the clocks of tickets resolved or closed before it (from when they
were resolved, else closed) and leaves open tickets' clocks running and the report counters as they were.

Run on a scratch database of the test run's server, taken back to before the migration, filled, and migrated.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection
from testing_support import on_database, scratch_database

from helpdesk.core.migrate import alembic_config, upgrade
from helpdesk.customers.models import Customer
from helpdesk.reports.models import FinishedClockCount
from helpdesk.tickets.models import Ticket
from sla.models import TargetStateRow

pytestmark = pytest.mark.integration

REVISION = "0014_sla_clock_stopped"
CREATED = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
RESOLVED = CREATED + timedelta(days=2)
CLOSED = CREATED + timedelta(days=5)
# (subject: status, resolved_at, closed_at) of the tickets there before the migration.
TICKETS = {
    "resolved": ("resolved", RESOLVED, None),
    "closed after resolving": ("closed", RESOLVED, CLOSED),
    "closed straight away": ("closed", None, CLOSED),
    "open": ("open", None, None),
}


async def _fill(connection: AsyncConnection) -> None:
    """Each ticket of TICKETS with a breached, never met first response and a resolution clock."""
    customer = (
        await connection.execute(
            insert(Customer).returning(Customer.id),
            {"email": "olga@clinic.example", "name": "Olga", "created_at": CREATED},
        )
    ).scalar_one()
    for n, (subject, (status, resolved_at, closed_at)) in enumerate(TICKETS.items()):
        ticket = (
            await connection.execute(
                insert(Ticket).returning(Ticket.id),
                {
                    "subject": subject,
                    "status": status,
                    "priority": "P3",
                    "channel": "web",
                    "customer_id": customer,
                    "tracking_token": f"token-{n}",
                    "version": 1,
                    "created_at": CREATED,
                    "updated_at": closed_at or resolved_at or CREATED,
                    "resolved_at": resolved_at,
                    "closed_at": closed_at,
                },
            )
        ).scalar_one()
        finished_at = resolved_at or closed_at
        breached_at = CREATED + timedelta(hours=8)
        # Without stopped_at: the column does not exist yet.
        await connection.execute(
            insert(TargetStateRow),
            [
                {
                    "ticket_id": ticket,
                    "target": "first_response",
                    "state": "breached",
                    "target_minutes": 480,
                    "clock_started_at": CREATED,
                    "due_at": breached_at,
                    "met_at": None,
                    "breached_at": breached_at,
                    "margin_minutes": -60.0,
                },
                {
                    "ticket_id": ticket,
                    "target": "resolution",
                    "state": "met" if finished_at else "running",
                    "target_minutes": 2400,
                    "clock_started_at": CREATED,
                    "due_at": CREATED + timedelta(days=5),
                    "met_at": finished_at,
                    "breached_at": None,
                    "margin_minutes": 10.0,
                },
            ],
        )


async def _counters(connection: AsyncConnection) -> list[tuple[Any, ...]]:
    rows = await connection.execute(select(FinishedClockCount.__table__).order_by(FinishedClockCount.id))
    return [tuple(row) for row in rows]


async def _stopped(connection: AsyncConnection) -> dict[tuple[str, str], datetime | None]:
    rows = await connection.execute(
        select(Ticket.subject, TargetStateRow.target, TargetStateRow.stopped_at).join(
            Ticket, Ticket.id == TargetStateRow.ticket_id
        )
    )
    return {(subject, target): stopped_at for subject, target, stopped_at in rows}


@pytest.fixture(scope="module")
def migrated(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The clocks' stopped_at after the migration, and the report counters before and after it."""
    with scratch_database(
        database_url, tmp_path_factory.mktemp("clock-stop"), "helpdesk_clock_stop"
    ) as scratch:
        upgrade(scratch)
        command.downgrade(alembic_config(scratch), f"{REVISION}@-1")  # this branch only, one step back
        asyncio.run(on_database(scratch, _fill))
        before = asyncio.run(on_database(scratch, _counters))
        upgrade(scratch)
        yield {
            "stopped": asyncio.run(on_database(scratch, _stopped)),
            "counters": (before, asyncio.run(on_database(scratch, _counters))),
        }


def test_the_migration_stops_the_clocks_of_tickets_resolved_or_closed_before_it(
    migrated: dict[str, Any],
) -> None:
    assert migrated["stopped"] == {
        ("resolved", "first_response"): RESOLVED,
        ("resolved", "resolution"): RESOLVED,
        ("closed after resolving", "first_response"): RESOLVED,
        ("closed after resolving", "resolution"): RESOLVED,
        ("closed straight away", "first_response"): CLOSED,
        ("closed straight away", "resolution"): CLOSED,
        ("open", "first_response"): None,
        ("open", "resolution"): None,
    }


def test_the_migration_leaves_the_report_counters_as_they_were(migrated: dict[str, Any]) -> None:
    before, after = migrated["counters"]
    assert before  # the clocks filled in were counted
    assert after == before
