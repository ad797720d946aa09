"""``insert_now`` writes rows of several tables at once (one statement on PostgreSQL) and leaves the objects
it keeps in the session as if read back; ``next_ids`` draws the ids those rows refer to each other by."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, func, select

from helpdesk.core.db import Base, insert_now, next_ids, table_of, transaction
from helpdesk.customers.models import Customer
from helpdesk.runtime import Runtime
from helpdesk.tickets.models import AuditEvent, Message, Ticket

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@contextmanager
def statements(runtime: Runtime, connection: Any) -> Iterator[list[str]]:
    """Statements sent on ``connection`` (the app's background work, e.g. the knowledge index, uses others)."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        if args[0] is connection:
            seen.append(args[2])

    event.listen(runtime.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(runtime.engine.sync_engine, "before_cursor_execute", record)


def _ticket(ticket_id: int, customer_id: int) -> Ticket:
    return Ticket(
        id=ticket_id,
        subject="Printer jams",
        status="new",
        priority="P3",
        channel="api",
        customer_id=customer_id,
        tracking_token=f"token-{ticket_id}",
        created_at=NOW,
        updated_at=NOW,
    )


async def _customer(runtime: Runtime) -> int:
    async with transaction(runtime.sessions) as session:
        customer = Customer(email="anna@example.com", created_at=NOW)
        session.add(customer)
        await session.flush()
        return customer.id


async def test_rows_of_several_tables_referring_to_each_other_are_written_together(runtime: Runtime) -> None:
    customer_id = await _customer(runtime)
    async with transaction(runtime.sessions) as session:
        dialect = session.get_bind().dialect.name
        ticket_id, message_id = (
            await session.execute(
                select(*next_ids(dialect, table_of(Ticket)), *next_ids(dialect, table_of(Message)))
            )
        ).one()
        ticket = _ticket(ticket_id, customer_id)
        message = Message(
            id=message_id,
            ticket_id=ticket_id,
            kind="customer_message",
            channel="api",
            author_customer_id=customer_id,
            body_text="It jams.",
            created_at=NOW,
        )
        audit = {
            "entity": "ticket",
            "entity_id": ticket_id,
            "ticket_id": ticket_id,
            "actor": "test",
            "field": "created",
            "created_at": NOW,
        }
        connection = (await session.connection()).sync_connection
        with statements(runtime, connection) as seen:
            await insert_now(session, [message, (table_of(AuditEvent), audit), ticket], keep=[ticket])
    assert len(seen) == (1 if dialect == "postgresql" else 3), seen
    async with runtime.sessions() as session:
        stored = await session.get(Ticket, ticket_id)
        assert stored is not None
        assert stored.version == 1  # the column default was applied
        assert (await session.get(Message, message_id)) is not None
        events = await session.scalar(select(func.count()).where(AuditEvent.ticket_id == ticket_id))
        assert events == 1


async def test_a_kept_object_is_persistent_and_a_later_change_is_an_update(runtime: Runtime) -> None:
    customer_id = await _customer(runtime)
    async with transaction(runtime.sessions) as session:
        dialect = session.get_bind().dialect.name
        ticket_id = await session.scalar(select(*next_ids(dialect, table_of(Ticket))))
        assert ticket_id is not None
        ticket = _ticket(ticket_id, customer_id)
        await insert_now(session, [ticket], keep=[ticket])
        assert ticket in session
        assert ticket not in session.new
        ticket.subject = "Printer jams on every page"
    async with runtime.sessions() as session:
        stored = await session.get(Ticket, ticket_id)
        assert stored is not None
        assert (stored.subject, stored.version) == ("Printer jams on every page", 2)


async def test_ids_drawn_in_one_query_are_distinct_and_unused(runtime: Runtime) -> None:
    async with transaction(runtime.sessions) as session:
        dialect = session.get_bind().dialect.name
        drawn = (await session.execute(select(*next_ids(dialect, table_of(Ticket), 3)))).one()
        largest = await session.scalar(select(func.max(Ticket.id)))
    assert len(set(drawn)) == 3
    assert min(drawn) > (largest or 0)


def test_every_mapped_attribute_is_named_as_its_column() -> None:
    # insert_now reads an object's values by column key.
    for mapper in Base.registry.mappers:
        for prop in mapper.column_attrs:
            assert prop.key == prop.columns[0].key, (mapper.class_.__name__, prop.key)
