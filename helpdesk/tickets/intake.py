"""What opening a ticket needs from the database, in one query: the customer, the SLA policy that applies to
them, and the ids the new rows will have (so that they can all be written in one statement afterwards)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

from sqlalchemy import Select, Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.core.db import Base, UTCDateTime, next_ids
from helpdesk.core.outbox import OutboxEvent
from helpdesk.customers.models import Customer
from helpdesk.notifications.models import OutgoingMail
from helpdesk.tickets.models import Message, Ticket
from sla.choice import PolicyCache, choice_from, with_policy_choice
from sla.service import ResolvedPolicy


@dataclass(frozen=True)
class NewIds:
    """Ids drawn for a new ticket's rows; ``mail`` and ``outbox`` only when they were asked for."""

    ticket: int
    message: int
    mail: int | None
    outbox: list[int]


@dataclass(frozen=True)
class Intake:
    customer: Customer
    policy: ResolvedPolicy
    ids: NewIds


async def load_intake(
    session: AsyncSession,
    *,
    by: Literal["id", "email"],
    key: int | str,
    at: datetime,
    cache: PolicyCache,
    mail: bool,
    outbox: int,
) -> Intake | None:
    """The customer with this id or (normalised) e-mail address, the policy that applies to them at ``at``,
    and ids for the ticket, its first message and, when asked, a mail and ``outbox`` outbox rows. None when
    there is no such customer (nothing is drawn then)."""
    query = _query(session.get_bind().dialect.name, by, mail, outbox)
    row = (await session.execute(query, {"customer_key": key, "at": at})).first()
    if row is None:
        return None
    found, contract_id, tier, policy_id, version, ticket_id, message_id, *drawn = row
    ids = NewIds(
        ticket=ticket_id, message=message_id, mail=drawn.pop(0) if mail else None, outbox=drawn[:outbox]
    )
    policy = await cache.resolved(session, choice_from((contract_id, tier, policy_id, version)))
    return Intake(found, policy, ids)


@lru_cache(maxsize=32)
def _query(dialect: str, by: Literal["id", "email"], mail: bool, outbox: int) -> Select[Any]:
    """The query of :func:`load_intake`, built once per variant (building its joins costs more than running
    it) with the customer's id or address and the time as parameters."""
    match = Customer.id if by == "id" else Customer.email
    query = select(Customer).where(match == bindparam("customer_key"))
    query = with_policy_choice(
        query, Customer, Customer.id, Customer.organisation_id, bindparam("at", type_=UTCDateTime())
    )
    wanted: list[tuple[type[Base], int]] = [
        (Ticket, 1),
        (Message, 1),
        (OutgoingMail, 1 if mail else 0),
        (OutboxEvent, outbox),
    ]
    return query.add_columns(
        *(column for model, count in wanted for column in next_ids(dialect, _table(model), count))
    )


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table
