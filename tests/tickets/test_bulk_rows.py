"""Rows of several tables in one statement (helpdesk.tickets.bulk_rows), on PostgreSQL as on SQLite."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Table, select

from helpdesk.channels.email.models import InboundMail
from helpdesk.customers.models import Customer
from helpdesk.notifications.models import MailReference
from helpdesk.tickets.bulk_rows import ChangedRows, NewRows, write_rows
from helpdesk.tickets.models import Ticket

pytestmark = pytest.mark.integration

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def _table(model: type) -> Table:  # type: ignore[type-arg]
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _inbound(key: str, status: str) -> dict[str, object]:
    return {"dedupe_key": key, "sha256": "0" * 64, "size": 1, "raw": b"x", "source": "pipe", "received_at": NOW,
            "status": status, "attempts": 1, "auto_submitted": False, "acknowledged": False,
            "flag_reason": "processing failed: earlier"}  # fmt: skip


async def test_new_rows_skip_conflicts_and_changed_rows_touch_only_matching_rows(runtime) -> None:  # type: ignore[no-untyped-def]
    async with runtime.sessions() as session, session.begin():
        await session.execute(_table(InboundMail).insert(), [_inbound(k, s) for k, s in
                                                             (("a", "pending"), ("b", "pending"), ("c", "flagged"))])  # fmt: skip
        ids = list(await session.scalars(select(InboundMail.id).order_by(InboundMail.id)))
        customer = Customer(email="anna@example.com", created_at=NOW)
        session.add(customer)
        await session.flush()
        ticket = Ticket(subject="Printer", status="new", priority="P3", channel="email", customer_id=customer.id,
                        tracking_token="t", created_at=NOW, updated_at=NOW)  # fmt: skip
        session.add(ticket)
        await session.flush()
        session.add(MailReference(message_id="<known@x>", ticket_id=ticket.id, created_at=NOW))
        await session.flush()
        updates = [
            {"id": ids[0], "status": "processed", "flag_reason": None, "ticket_id": ticket.id},
            {"id": ids[1], "status": "flagged", "flag_reason": "a loop", "ticket_id": None},
            {"id": ids[2], "status": "processed", "flag_reason": "never", "ticket_id": ticket.id},
        ]
        references = [
            {"message_id": m, "ticket_id": ticket.id, "created_at": NOW} for m in ("<known@x>", "<new@x>")
        ]
        await write_rows(session, [
            NewRows(_table(MailReference), references, skip_conflicts_on=("message_id",)),
            ChangedRows(_table(InboundMail), "id", updates, only_where={"status": "pending"},
                        keep_if_null=("flag_reason",)),
        ])  # fmt: skip

    async with runtime.sessions() as session:
        rows = (await session.execute(
            select(InboundMail.status, InboundMail.flag_reason, InboundMail.ticket_id).order_by(InboundMail.id)
        )).all()  # fmt: skip
        mapped = set(await session.scalars(select(MailReference.message_id)))
    assert [tuple(r) for r in rows] == [
        ("processed", "processing failed: earlier", ticket.id),  # None keeps the earlier reason
        ("flagged", "a loop", None),
        ("flagged", "processing failed: earlier", None),  # not pending: left alone
    ]
    assert mapped == {"<known@x>", "<new@x>"}
