"""The in-memory plan of many ticket writes (helpdesk.tickets.batch): the one-ticket rules, mail by mail."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from helpdesk.core.errors import InvalidInput
from helpdesk.core.principal import Principal
from helpdesk.customers.models import Customer
from helpdesk.tickets.batch import TicketBatch, TicketText
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.rules import Channel, MessageKind, TicketStatus

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
ANNA = Customer(id=7, email="anna@example.com", name="Anna", organisation_id=None)
AS_ANNA = Principal(customer_id=7, name="Anna")


def _batch(max_file: int = 100, max_ticket: int = 250) -> TicketBatch:
    return TicketBatch(NOW, max_attachment_bytes=max_file, max_ticket_attachment_bytes=max_ticket)


def _existing(ticket_id: int, status: TicketStatus) -> Ticket:
    return Ticket(id=ticket_id, subject="Printer jams", status=status.value, priority="P2", customer_id=7,
                  organisation_id=None, queue_id=3, created_at=NOW)  # fmt: skip


def _open(batch: TicketBatch, subject: str = "Printer jams") -> tuple[int, int]:
    return batch.open(AS_ANNA, ANNA, subject=subject, description="It jams.", body_html="", channel=Channel.EMAIL,
                      acknowledge=True, thread_message_id="<m1@example.com>")  # fmt: skip


def test_opened_tickets_get_negative_keys_and_their_first_message_from_the_customer() -> None:
    batch = _batch()
    first, second = _open(batch), _open(batch, "VPN  drops\n every hour")

    assert (first[0], second[0]) == (-1, -2)
    assert batch.tickets[-2].subject == "VPN drops every hour"
    assert [m.kind for m in batch.messages] == [MessageKind.CUSTOMER_MESSAGE] * 2
    assert [t.key for t in batch.opened_for(ANNA.id)] == [-2, -1]  # newest first


def test_a_blank_subject_is_refused_as_the_ticket_service_refuses_it() -> None:
    with pytest.raises(InvalidInput):
        _open(_batch(), " \t ")


def test_customer_messages_reopen_a_pending_ticket_once() -> None:
    batch = _batch()
    batch.add_existing(_existing(5, TicketStatus.PENDING_CUSTOMER))
    for _ in range(2):
        key, _index = batch.customer_message(
            AS_ANNA, 5, body="Still jammed.", body_html="", channel=Channel.EMAIL
        )
        assert key == 5

    assert [(m.ticket_key, m.target) for m in batch.moves] == [(5, TicketStatus.OPEN)]
    assert batch.touched == {5}
    assert batch.customer_messages == {5}


def test_a_customer_message_on_a_closed_ticket_opens_a_follow_up_under_the_closed_tickets_customer() -> None:
    batch = _batch()
    closed = _existing(5, TicketStatus.CLOSED)
    batch.add_existing(closed)

    key, index = batch.customer_message(AS_ANNA, 5, body="It is back.", body_html="", channel=Channel.EMAIL)

    assert key == -1
    [follow_up] = batch.opened
    assert (follow_up.follow_up_of, follow_up.policy_customer_id, follow_up.customer) == (closed, 7, None)
    assert batch.messages[index].ticket_key == -1
    assert batch.moves == []
    assert batch.touched == set()


def test_a_file_past_the_tickets_limit_is_refused_naming_the_ticket_and_the_others_count() -> None:
    batch = _batch(max_file=100, max_ticket=250)
    batch.add_existing(_existing(5, TicketStatus.OPEN), used_bytes=100)
    _key, index = batch.customer_message(AS_ANNA, 5, body="Logs.", body_html="", channel=Channel.EMAIL)

    def attach(data: bytes) -> str | TicketText | None:
        return batch.attach(AS_ANNA, index, filename="a/log.txt", content_type="text/plain; charset=utf-8",
                            data=data, content_id=None)  # fmt: skip

    assert attach(b"x" * 100) is None
    refused = attach(b"x" * 60)
    assert isinstance(refused, TicketText)
    assert refused.render({}) == "HD-5 would hold more than 250 bytes of files"
    assert attach(b"x" * 101) == "log.txt: 101 bytes is over the limit of 100 bytes per file"
    assert attach(b"") == "log.txt is empty"
    [kept] = batch.attachments
    assert (kept.filename, kept.content_type, kept.ticket_key) == ("log.txt", "text/plain", 5)


def test_rolling_back_undoes_everything_one_mail_planned() -> None:
    batch = _batch()
    batch.add_existing(_existing(5, TicketStatus.RESOLVED))
    _open(batch)
    savepoint = batch.savepoint()
    _key, index = batch.customer_message(AS_ANNA, 5, body="Again.", body_html="", channel=Channel.EMAIL)
    batch.attach(AS_ANNA, index, filename="a.txt", content_type=None, data=b"abc", content_id=None)
    _open(batch, "Another")

    batch.rollback(savepoint)

    assert batch.tickets[5].status == TicketStatus.RESOLVED
    assert (len(batch.opened), len(batch.messages), batch.attachments, batch.moves) == (1, 1, [], [])
    assert batch.touched == set()
    assert batch.customer_messages == set()
    assert batch.used_bytes[5] == 0
    assert _open(batch, "Third")[0] == -2
