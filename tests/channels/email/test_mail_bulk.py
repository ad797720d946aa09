"""The batched path writes a whole batch with a few statements, and writes what one mail at a time writes."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from mailkit import inbound, make_mail, outgoing, ticket_of
from sqlalchemy import Table, event, select

from helpdesk.accounts.principal import Principal, Role
from helpdesk.channels.email import service as mail_service
from helpdesk.channels.email.models import InboundSource
from helpdesk.channels.email.service import MailService
from helpdesk.customers.models import Organisation
from helpdesk.models import Base
from helpdesk.runtime import Runtime
from helpdesk.tickets.schemas import TicketUpdate
from helpdesk.tickets.service import TicketService
from sla.defaults import DEFAULT_POLICY
from sla.models import CalendarRow, ContractRow, PolicyRow

pytestmark = pytest.mark.integration

ANNA = "Anna Petrova <anna@example.com>"
BORIS = "Boris <boris@example.org>"
CAROL = "Carol <carol@example.org>"


def _bounce(original_id: str, recipient: str) -> bytes:
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\n"
        "To: support@helpdesk.localhost\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <bounce-b@mx.example.com>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "--B\r\nContent-Type: message/rfc822\r\n\r\n"
        f"From: support@helpdesk.localhost\r\nTo: {recipient}\r\nMessage-ID: {original_id}\r\n"
        "Subject: Printer jams\r\n\r\nwe have received your request\r\n--B--\r\n"
    ).encode()


def _batch() -> list[bytes]:
    """Mail of every kind, several of which depend on mail earlier in the same batch."""
    file = {
        "filename": "log.txt",
        "data": b"paper jam at tray 2\n" * 50,
        "maintype": "text",
        "subtype": "plain",
    }
    empty = {"filename": "empty.bin", "data": b""}
    return [
        make_mail(sender=ANNA, message_id="<n1@mail.example.com>", subject="Screen flickers",
                  attachments=[file, empty]),
        make_mail(sender=ANNA, message_id="<r1@mail.example.com>", subject="Re: Printer jams",
                  body="Still jammed.", headers={"In-Reply-To": "<pending@mail.example.com>"}),
        make_mail(sender=ANNA, message_id="<r2@mail.example.com>", subject="Re: VPN",
                  body="It is back.", headers={"In-Reply-To": "<closed@mail.example.com>"}),
        make_mail(sender=ANNA, message_id="<r3@mail.example.com>", subject="Re: Screen flickers",
                  body="Also at night.", headers={"In-Reply-To": "<n1@mail.example.com>"}),
        make_mail(sender=ANNA, message_id="<o1@mail.example.com>", subject="Automatic reply: Printer jams",
                  body="Out until Monday.",
                  headers={"Auto-Submitted": "auto-replied", "In-Reply-To": "<pending@mail.example.com>"}),
        make_mail(sender=BORIS, to=f"support@helpdesk.localhost, {CAROL}", message_id="<n2@mail.example.org>",
                  subject="Badge reader broken"),
        make_mail(sender=CAROL, message_id="<c1@mail.example.org>", subject="Re: Badge reader broken",
                  body="Same on floor 3.", headers={"In-Reply-To": "<n2@mail.example.org>"}),
        make_mail(sender=ANNA, message_id="<f1@mail.example.com>", subject="RE: Screen flickers",
                  body="Any news?"),
        b"PK\x03\x04 not a mail at all",
        make_mail(sender=BORIS, message_id="<o2@mail.example.org>", subject="Out of office",
                  headers={"Auto-Submitted": "auto-replied"}),
        _bounce("<pending@mail.example.com>", "anna@example.com"),
        make_mail(sender="noreply@shop.example", message_id="<m1@shop.example>", subject="Your order"),
    ]  # fmt: skip


async def _prepare(runtime: Runtime, staff: Principal) -> None:
    """Boris's organisation under a contract (tier 1, a 24/7 policy), and a pending and a closed ticket of
    Anna's, opened by mail one at a time."""
    now = runtime.clock.now()
    async with runtime.sessions() as session, session.begin():
        calendar = CalendarRow(name="24/7", spec={"24/7": True}, created_at=now, updated_at=now)
        organisation = Organisation(name="Example", domain="example.org", created_at=now)
        session.add_all([calendar, organisation])
        await session.flush()
        policy = PolicyRow(name="Premium", calendar_id=calendar.id, spec=DEFAULT_POLICY, actions={},
                           created_at=now, updated_at=now)  # fmt: skip
        session.add(policy)
        await session.flush()
        session.add(ContractRow(name="Example", organisation_id=organisation.id, policy_id=policy.id,
                                valid_from=now - timedelta(days=1), tier=1, coverage=[], created_at=now))  # fmt: skip
    service, tickets = MailService(runtime), TicketService(runtime)
    for message_id, subject, status in (
        ("<pending@mail.example.com>", "Printer jams", "pending_customer"),
        ("<closed@mail.example.com>", "VPN", "closed"),
    ):
        stored = await service.store(make_mail(sender=ANNA, message_id=message_id, subject=subject),
                                     InboundSource.PIPE, enqueue=False)  # fmt: skip
        assert await service.process(stored.id) == "new_ticket"
        ticket = await ticket_of(runtime, stored.id)
        await tickets.update_ticket(staff, ticket.id, TicketUpdate(version=ticket.version, status=status))


async def _run_batch(runtime: Runtime, raws: list[bytes]) -> dict[int, str]:
    service = MailService(runtime)
    ids = [(await service.store(raw, InboundSource.PIPE, enqueue=False)).id for raw in raws]
    return await service.process_batch(ids)


# What processing mail writes.
WRITTEN = {"customer", "organisation", "sla_contract", "sla_policy", "sla_calendar", "ticket", "ticket_message", "attachment", "attachment_blob", "audit_event", "ticket_sla",
           "ticket_sla_target", "sla_scheduled_step", "mail_reference", "outgoing_mail", "outbox_event",
           "inbound_mail", "inbound_mail_recipient", "ticket_tag", "sla_escalation"}  # fmt: skip
# Columns that differ from run to run by design: random tokens and Message-IDs.
RANDOM = {("ticket", "tracking_token"), ("outgoing_mail", "message_id")}
JOB_ARGS = {"send_mail_job": "outgoing_mail", "suggest_for_ticket_job": "ticket",
            "process_inbound_mail_job": "inbound_mail"}  # fmt: skip


async def _snapshot(runtime: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, with ids replaced by their rank in their table (both runs number rows in
    the same order) and random tokens left out; rows of a table compared as a sorted list."""
    tables = [t for t in Base.metadata.sorted_tables if t.name in WRITTEN or t.name == "staff_user"]
    async with runtime.sessions() as session:
        raw = {t.name: [tuple(r) for r in (await session.execute(select(t))).all()] for t in tables}
    ranks: dict[str, dict[Any, int]] = {}
    for table in tables:
        if "id" in table.c and table.c.id.primary_key:
            ids = sorted(row[list(table.c.keys()).index("id")] for row in raw[table.name])
            ranks[table.name] = {value: rank for rank, value in enumerate(ids)}
    token_index = list(Base.metadata.tables["ticket"].c.keys()).index("tracking_token")
    tokens = [row[token_index] for row in raw["ticket"]]
    snapshot = {}
    for table in tables:
        if table.name not in WRITTEN:
            continue
        snapshot[table.name] = sorted(
            (_normal(table, row, ranks, tokens) for row in raw[table.name]), key=repr
        )
    return snapshot


def _normal(
    table: Table, row: tuple[Any, ...], ranks: dict[str, dict[Any, int]], tokens: list[str]
) -> tuple[Any, ...]:
    values = []
    for column, stored in zip(table.c, row, strict=True):
        if (table.name, column.name) in RANDOM or (table.name, column.name) == ("audit_event", "id"):
            continue  # audit rows are compared as a set: the ORM writes status changes at its own time
        value = stored
        if (table.name, column.name) == ("audit_event", "entity_id"):
            value = ranks[str(row[1])].get(value)  # the entity's own id: a ticket's or an attachment's
        if column.name == "id" and table.name in ranks:
            value = ranks[table.name].get(value)
        for key in column.foreign_keys:
            target = key.column.table.name
            if value is not None and target in ranks and key.column.name == "id":
                value = ranks[target].get(value)
        if table.name == "outbox_event" and column.name == "args" and row[1] in JOB_ARGS:
            value = [ranks[JOB_ARGS[row[1]]].get(v) for v in value]
        if isinstance(value, str):
            for token in tokens:
                value = value.replace(token, "<token>")
            value = re.sub(r"HD-(\d+)", lambda m: f"HD-#{ranks['ticket'].get(int(m.group(1)))}", value)
        values.append(value)
    return tuple(values)


async def _scenario(
    runtime: Runtime, make_staff: Callable[..., Awaitable[Any]], raws: list[bytes]
) -> tuple[list[str], Any]:
    agent = await make_staff("agent")
    staff = Principal(user_id=agent.id, role=Role.AGENT, name="Alex")
    await _prepare(runtime, staff)
    outcomes = await _run_batch(runtime, raws)
    # The one-mail path's outbox rows are marked relayed a moment after the batch's.
    await runtime.relay_marks.flush()
    return sorted(outcomes.values()), await _snapshot(runtime)


async def _empty(runtime: Runtime) -> None:
    async with runtime.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(table.delete())


async def test_a_batch_writes_the_same_rows_as_one_mail_at_a_time(runtime, make_staff, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    raws = _batch()
    batched_outcomes, batched = await _scenario(runtime, make_staff, raws)
    await _empty(runtime)

    async def unavailable(*args: Any) -> None:
        raise RuntimeError("the batched write is off for this run")

    monkeypatch.setattr(mail_service, "write_decisions", unavailable)
    single_outcomes, single = await _scenario(runtime, make_staff, raws)

    assert batched_outcomes == single_outcomes
    assert sorted(batched_outcomes) == sorted(["new_ticket", "reply", "follow_up", "reply", "auto_reply",
                                               "new_ticket", "reply", "reply", "flagged", "flagged", "bounce",
                                               "new_ticket"])  # fmt: skip
    for table in single:
        assert batched[table] == single[table], table
    assert {row[3] for row in batched["ticket"]} == {"P2", "P3"}  # Boris's tickets: the contract's tier


async def test_a_failed_batched_write_processes_every_mail_one_by_one(runtime, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    async def unavailable(*args: Any) -> None:
        raise RuntimeError("the batched write failed")

    monkeypatch.setattr(mail_service, "write_decisions", unavailable)
    service = MailService(runtime)
    ids = [(await service.store(make_mail(subject=f"Problem {n}"), InboundSource.PIPE, enqueue=False)).id
           for n in range(3)]  # fmt: skip

    assert await service.process_batch(ids) == dict.fromkeys(ids, "new_ticket")
    assert len({(await ticket_of(runtime, i)).id for i in ids}) == 3
    assert [(await inbound(runtime, i)).attempts for i in ids] == [1, 1, 1]


async def test_a_reply_by_subject_threads_to_a_ticket_opened_earlier_in_the_same_batch(runtime) -> None:  # type: ignore[no-untyped-def]
    service = MailService(runtime)
    raws = [make_mail(subject="Scanner offline"), make_mail(subject="Re: Scanner offline", body="Any news?")]
    ids = [(await service.store(raw, InboundSource.PIPE, enqueue=False)).id for raw in raws]

    assert await service.process_batch(ids) == {ids[0]: "new_ticket", ids[1]: "reply"}
    assert (await ticket_of(runtime, ids[1])).id == (await ticket_of(runtime, ids[0])).id


async def test_the_caps_count_the_mail_earlier_in_the_same_batch(make_client) -> None:  # type: ignore[no-untyped-def]
    async with make_client(mail_auto_reply_cap=2, mail_new_ticket_cap_per_day=3) as (_, runtime):
        service = MailService(runtime)
        ids = [(await service.store(make_mail(subject=f"Problem {n}"), InboundSource.PIPE, enqueue=False)).id
               for n in range(5)]  # fmt: skip
        outcomes = await service.process_batch(ids)

        assert [outcomes[i] for i in ids] == ["new_ticket"] * 3 + ["flagged"] * 2
        assert len(await outgoing(runtime, "ticket_acknowledgement")) == 2
        assert "not acknowledged" in ((await inbound(runtime, ids[2])).flag_reason or "")


class HeldQueue:
    """A job queue that keeps what it is given: the follow-up jobs are not the batch's statements."""

    def __init__(self) -> None:
        self.jobs: list[str] = []

    async def enqueue(
        self, job: str, *args: Any, job_id: str | None = None, defer_seconds: float | None = None
    ) -> None:
        self.jobs.append(job)

    async def close(self) -> None:
        pass


async def test_a_batch_costs_the_same_statements_for_twenty_mails_as_for_sixty(runtime) -> None:  # type: ignore[no-untyped-def]
    if not runtime.settings.database_url.startswith("postgresql"):
        pytest.skip("SQLite's driver inserts rows with RETURNING one at a time, in process: no round trips")
    service = MailService(runtime)
    counted: list[int] = []

    def count(*args: Any) -> None:
        counted.append(1)

    queue, runtime.queue = runtime.queue, HeldQueue()
    event.listen(runtime.engine.sync_engine, "before_cursor_execute", count)
    try:
        costs = []
        for size in (20, 60):
            raws = [make_mail(sender=f"Customer <c{size}-{n}@example.net>", subject=f"Problem {n}")
                    for n in range(size)]  # fmt: skip
            ids = [(await service.store(raw, InboundSource.PIPE, enqueue=False)).id for raw in raws]
            counted.clear()
            assert set((await service.process_batch(ids)).values()) == {"new_ticket"}
            costs.append(len(counted))
    finally:
        event.remove(runtime.engine.sync_engine, "before_cursor_execute", count)
        runtime.queue = queue

    assert costs[1] == costs[0]
    assert costs[0] <= 30
