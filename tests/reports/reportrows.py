"""Rows the report counter tests insert straight into the tables (no services: the triggers that keep the
counters are what is under test)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.accounts.models import Group
from helpdesk.customers.models import Customer, Organisation
from helpdesk.reports.models import BacklogCount, FinishedClockCount, RatingCount
from helpdesk.runtime import Runtime
from helpdesk.tickets.models import Ticket

# The columns that name a counter's row: folding leaves one settled row per key.
COUNTER_KEYS: dict[type[Any], tuple[str, ...]] = {
    BacklogCount: ("queue_id", "organisation_id", "priority"),
    FinishedClockCount: ("span", "period_start", "target", "queue_id", "organisation_id", "priority"),
    RatingCount: ("span", "period_start", "score", "queue_id", "organisation_id", "priority"),
}


@dataclass(frozen=True)
class Desk:
    """Ids of the queues ("Queue 0", ...), the organisations ("Org 0", ...) and the one customer tickets get."""

    queues: list[int]
    organisations: list[int]
    customer: int


async def insert_desk(runtime: Runtime, created_at: datetime, queues: int, organisations: int = 0) -> Desk:
    async with runtime.sessions() as session, session.begin():
        queue_ids = [
            (
                await session.execute(
                    insert(Group).values(name=f"Queue {n}", created_at=created_at).returning(Group.id)
                )
            ).scalar_one()
            for n in range(queues)
        ]
        organisation_ids = [
            (
                await session.execute(
                    insert(Organisation)
                    .values(name=f"Org {n}", created_at=created_at)
                    .returning(Organisation.id)
                )
            ).scalar_one()
            for n in range(organisations)
        ]
        customer = (
            await session.execute(
                insert(Customer).values(email="c@example.com", created_at=created_at).returning(Customer.id)
            )
        ).scalar_one()
    return Desk(queue_ids, organisation_ids, customer)


async def insert_ticket(session: AsyncSession, n: int, created_at: datetime, **columns: Any) -> int:
    """Ticket ``n`` ("Ticket n", a web ticket with tracking token "token-n") opened at ``created_at``, with
    ``columns`` (status, priority, queue, organisation, customer); its id."""
    ticket_id: int = (
        await session.execute(
            insert(Ticket)
            .values(
                subject=f"Ticket {n}",
                channel="web",
                tracking_token=f"token-{n}",
                version=1,
                created_at=created_at,
                updated_at=created_at,
                **columns,
            )
            .returning(Ticket.id)
        )
    ).scalar_one()
    return ticket_id


async def counter_rows(runtime: Runtime, counter: type[Any]) -> list[tuple[Any, ...]]:
    """Each row of a counter table (a model of :data:`COUNTER_KEYS`): its key, and last whether it is settled."""
    columns = [getattr(counter, name) for name in (*COUNTER_KEYS[counter], "settled")]
    async with runtime.sessions() as session:
        return [tuple(row) for row in await session.execute(select(*columns))]
