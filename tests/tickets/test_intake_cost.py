"""What opening a ticket over the API costs the database: on PostgreSQL one query (customer, SLA policy and
the new rows' ids) and one INSERT of every row, on one pooled connection and without BEGIN and COMMIT (the
INSERT is atomic by itself). The jobs are queued right after the INSERT; their outbox rows are marked relayed
a moment later, together with other requests' rows."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select
from testing_support import RecordingQueue

from helpdesk.core.outbox import OutboxEvent
from helpdesk.customers.models import Customer
from helpdesk.runtime import Runtime
from helpdesk.tickets.models import AuditEvent, Message, Ticket, TicketTag
from sla.models import ScheduledStepRow, TargetStateRow, TicketSlaRow

PLAIN = {
    "subject": "Printer jams",
    "description": "On every second page.",
    "customer_email": "anna@example.com",
}
# Tags are written by the session's flush (flush hooks watch them): one statement more.
BODY = {**PLAIN, "tags": ["printer", "floor-3"]}


@contextmanager
def counted(runtime: Runtime) -> Iterator[dict[str, list[Any]]]:
    seen: dict[str, list[Any]] = {"statements": [], "checkouts": []}

    def statement(*args: Any) -> None:
        seen["statements"].append(args[2])

    def checkout(*args: Any) -> None:
        seen["checkouts"].append(args[0])

    event.listen(runtime.engine.sync_engine, "before_cursor_execute", statement)
    event.listen(runtime.engine.sync_engine, "checkout", checkout)
    try:
        yield seen
    finally:
        event.remove(runtime.engine.sync_engine, "before_cursor_execute", statement)
        event.remove(runtime.engine.sync_engine, "checkout", checkout)


async def test_an_api_ticket_costs_three_statements_on_one_connection_on_postgresql(client, agent, runtime):  # type: ignore[no-untyped-def]
    # The customer exists and the token was seen (a new address and a first call each cost more).
    assert (await client.post("/api/v1/tickets", json=PLAIN, headers=agent.headers)).status_code == 201
    await runtime.queue.drain()
    await runtime.relay_marks.flush()
    runtime.queue = RecordingQueue()
    runtime.relay_marks.delay = 3600  # the marks' own statement is counted below, apart
    with counted(runtime) as seen:
        response = await client.post("/api/v1/tickets", json=PLAIN, headers=agent.headers)
    assert response.status_code == 201, response.text
    assert [job.job for job in runtime.queue.jobs] == ["send_mail_job", "suggest_for_ticket_job"]
    assert len(seen["checkouts"]) == 1
    if runtime.engine.dialect.name == "postgresql":
        assert len(seen["statements"]) == 2, seen["statements"]
    else:
        # SQLite: one INSERT per table (a local file: a statement costs no round trip) and BEGIN IMMEDIATE.
        assert len(seen["statements"]) == 10, seen["statements"]


async def test_the_relayed_marks_of_many_api_tickets_are_written_with_one_statement(client, agent, runtime):  # type: ignore[no-untyped-def]
    runtime.relay_marks.delay = 3600
    for _ in range(3):
        assert (await client.post("/api/v1/tickets", json=PLAIN, headers=agent.headers)).status_code == 201
    assert runtime.relay_marks.pending == 6
    with counted(runtime) as seen:
        await runtime.relay_marks.flush()
    assert len([s for s in seen["statements"] if s.lstrip().upper().startswith("UPDATE")]) == 1
    async with runtime.sessions() as session:
        unmarked = await session.scalars(select(OutboxEvent).where(OutboxEvent.relayed_at.is_(None)))
        assert unmarked.all() == []


async def test_an_api_ticket_writes_every_row_it_needs(client, agent, runtime):  # type: ignore[no-untyped-def]
    response = await client.post("/api/v1/tickets", json=BODY, headers=agent.headers)
    assert response.status_code == 201, response.text
    ticket_id = response.json()["id"]
    async with runtime.sessions() as session:

        async def count(model: Any) -> int:
            return len((await session.scalars(select(model).where(model.ticket_id == ticket_id))).all())

        assert await count(Message) == 1
        assert await count(AuditEvent) == 1
        assert await count(TicketSlaRow) == 1
        assert await count(TargetStateRow) == 2  # first response and resolution
        assert await count(ScheduledStepRow) == 4  # a warning and a breach of each
        assert sorted(
            await session.scalars(select(TicketTag.tag).where(TicketTag.ticket_id == ticket_id))
        ) == [
            "floor-3",
            "printer",
        ]


async def test_an_api_tickets_jobs_are_queued_and_marked_relayed_right_after_the_commit(
    client, agent, runtime
):  # type: ignore[no-untyped-def]
    response = await client.post("/api/v1/tickets", json=BODY, headers=agent.headers)
    assert response.status_code == 201, response.text
    await asyncio.sleep(runtime.relay_marks.delay * 4)
    async with runtime.sessions() as session:
        events = (await session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))).all()
    assert [e.job for e in events] == ["send_mail_job", "suggest_for_ticket_job"]
    assert all(e.relayed_at is not None for e in events)


@contextmanager
def begun(runtime: Runtime) -> Iterator[list[str]]:
    """BEGINs sent to PostgreSQL by the connections checked out meanwhile (the driver's own log: SQLAlchemy's
    events do not see them)."""
    seen: list[str] = []

    watched: list[Any] = []

    def log(record: Any) -> None:
        if record.query.upper().startswith("BEGIN"):
            seen.append(record.query)

    def checkout(dbapi_connection: Any, *_: Any) -> None:
        if dbapi_connection.driver_connection not in watched:
            watched.append(dbapi_connection.driver_connection)
            watched[-1].add_query_logger(log)

    event.listen(runtime.engine.sync_engine, "checkout", checkout)
    try:
        yield seen
    finally:
        event.remove(runtime.engine.sync_engine, "checkout", checkout)
        for connection in watched:
            connection.remove_query_logger(log)


async def _postgresql_only(runtime: Runtime) -> None:
    """Skips on SQLite; keeps the jobs from running (their own transactions would be counted)."""
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("SQLite keeps BEGIN IMMEDIATE: the write lock makes its counted ids safe")
    await runtime.queue.drain()
    runtime.queue = RecordingQueue()


async def test_an_api_ticket_for_a_known_customer_is_written_without_begin_on_postgresql(
    client, agent, runtime
):  # type: ignore[no-untyped-def]
    await _postgresql_only(runtime)
    assert (await client.post("/api/v1/tickets", json=PLAIN, headers=agent.headers)).status_code == 201
    with begun(runtime) as begins:
        response = await client.post("/api/v1/tickets", json=PLAIN, headers=agent.headers)
    assert response.status_code == 201, response.text
    assert begins == []


async def test_an_api_ticket_for_a_new_address_is_written_in_a_transaction(client, agent, runtime):  # type: ignore[no-untyped-def]
    await _postgresql_only(runtime)
    body = {**PLAIN, "customer_email": "new.customer@example.com"}
    # The token was seen (a first call reads it in a transaction of its own).
    assert (await client.post("/api/v1/tickets", json=PLAIN, headers=agent.headers)).status_code == 201
    with begun(runtime) as begins:
        response = await client.post("/api/v1/tickets", json=body, headers=agent.headers)
    assert response.status_code == 201, response.text
    assert len(begins) == 1
    async with runtime.sessions() as session:
        customer = await session.scalar(select(Customer).where(Customer.email == "new.customer@example.com"))
        assert customer is not None
        ticket = await session.get(Ticket, response.json()["id"])
        assert ticket is not None
        assert ticket.customer_id == customer.id


async def test_an_api_ticket_with_tags_is_written_in_a_transaction(client, agent, runtime):  # type: ignore[no-untyped-def]
    await _postgresql_only(runtime)
    assert (await client.post("/api/v1/tickets", json=PLAIN, headers=agent.headers)).status_code == 201
    with begun(runtime) as begins:
        response = await client.post("/api/v1/tickets", json=BODY, headers=agent.headers)
    assert response.status_code == 201, response.text
    assert len(begins) == 1
