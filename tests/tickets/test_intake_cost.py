"""What opening a ticket over the API costs the database: on PostgreSQL one query (customer, SLA policy and
the new rows' ids), one INSERT of every row, and the outbox rows marked relayed once their jobs are queued,
all on one pooled connection. The jobs are queued right after the commit."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select

from helpdesk.core.outbox import OutboxEvent
from helpdesk.core.queue import QueuedJob
from helpdesk.runtime import Runtime
from helpdesk.tickets.models import AuditEvent, Message, TicketTag
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


class RecordingQueue:
    """Keeps the jobs instead of running them, so that only the request's own statements are counted."""

    def __init__(self) -> None:
        self.jobs: list[QueuedJob] = []

    async def enqueue(
        self, job: str, *args: Any, job_id: str | None = None, defer_seconds: float | None = None
    ) -> None:
        self.jobs.append(QueuedJob(job, args, job_id, defer_seconds))

    async def enqueue_many(self, jobs: Sequence[QueuedJob]) -> None:
        self.jobs.extend(jobs)

    async def close(self) -> None:
        pass


async def test_an_api_ticket_costs_three_statements_on_one_connection_on_postgresql(client, agent, runtime):  # type: ignore[no-untyped-def]
    # The customer exists and the token was seen (a new address and a first call each cost more).
    assert (await client.post("/api/v1/tickets", json=PLAIN, headers=agent.headers)).status_code == 201
    await runtime.queue.drain()
    runtime.queue = RecordingQueue()
    with counted(runtime) as seen:
        response = await client.post("/api/v1/tickets", json=PLAIN, headers=agent.headers)
    assert response.status_code == 201, response.text
    assert [job.job for job in runtime.queue.jobs] == ["send_mail_job", "suggest_for_ticket_job"]
    assert len(seen["checkouts"]) == 1
    if runtime.engine.dialect.name == "postgresql":
        assert len(seen["statements"]) == 3, seen["statements"]
    else:
        # SQLite: one INSERT per table (a local file: a statement costs no round trip), BEGIN IMMEDIATE twice.
        assert len(seen["statements"]) == 12, seen["statements"]


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
    async with runtime.sessions() as session:
        events = (await session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))).all()
    assert [e.job for e in events] == ["send_mail_job", "suggest_for_ticket_job"]
    assert all(e.relayed_at is not None for e in events)
