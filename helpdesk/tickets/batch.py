"""Many ticket writes planned in memory, for a channel that stores a batch of messages in one transaction.

The e-mail batch decides mail by mail what happens (a new ticket, a customer's message that reopens a ticket
or opens a follow-up, a note, files) by the same rules as the one-ticket commands of ``TicketService``, but
nothing is written until :func:`helpdesk.tickets.bulk.write_batch` writes the whole plan with a few
multi-row statements. Pure: no session. A ticket this batch opens has a negative key until it is written;
an existing ticket's key is its id. :meth:`TicketBatch.savepoint` and :meth:`TicketBatch.rollback` undo the
plan of one message whose deciding failed, so the others go on without it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from helpdesk.core.errors import InvalidInput
from helpdesk.core.principal import Principal
from helpdesk.customers.models import Customer
from helpdesk.tickets.attachments import clean_content_type, safe_filename
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.rules import (
    Channel,
    MessageKind,
    TicketStatus,
    status_after_customer_message,
    ticket_reference,
)

_T = TypeVar("_T")


@dataclass
class PlannedTicket:
    """What the plan knows of a ticket: an existing one (``key`` is its id) or one this batch opens."""

    key: int
    customer_id: int
    organisation_id: int | None
    subject: str
    status: str
    created_at: datetime
    opened: bool = False


@dataclass(frozen=True)
class OpenedTicket:
    """A ticket this batch opens: on a customer's request (``customer`` set: priority from the contract's
    tier, an acknowledgement unless ``acknowledge`` is false, knowledge-base suggestions) or as the
    follow-up of a closed ticket (``follow_up_of`` set: its priority and queue, no acknowledgement)."""

    key: int
    actor: Principal
    channel: Channel
    policy_customer_id: int  # whose contract decides the policy
    customer: Customer | None = None
    acknowledge: bool = False
    thread_message_id: str | None = None  # the mail the acknowledgement answers
    follow_up_of: Ticket | None = None


@dataclass(frozen=True)
class PlannedMessage:
    ticket_key: int
    kind: MessageKind
    channel: Channel
    author_customer_id: int | None
    body_text: str
    body_html: str


@dataclass(frozen=True)
class PlannedAttachment:
    ticket_key: int
    message_index: int
    actor: Principal
    filename: str
    content_type: str
    data: bytes
    sha256: str
    content_id: str | None


@dataclass(frozen=True)
class StatusMove:
    ticket_key: int
    actor: Principal
    target: TicketStatus


@dataclass(frozen=True)
class TicketText:
    """Text that names a ticket this batch may only open later: ``before`` + its reference + ``after``."""

    before: str
    ticket_key: int
    after: str

    def render(self, ticket_ids: dict[int, int]) -> str:
        return (
            f"{self.before}{ticket_reference(ticket_ids.get(self.ticket_key, self.ticket_key))}{self.after}"
        )


@dataclass
class TicketBatch:
    now: datetime
    max_attachment_bytes: int
    max_ticket_attachment_bytes: int
    tickets: dict[int, PlannedTicket] = field(default_factory=dict)
    existing: dict[int, Ticket] = field(default_factory=dict)
    opened: list[OpenedTicket] = field(default_factory=list)
    messages: list[PlannedMessage] = field(default_factory=list)
    attachments: list[PlannedAttachment] = field(default_factory=list)
    moves: list[StatusMove] = field(default_factory=list)
    touched: set[int] = field(default_factory=set)  # existing tickets whose updated_at becomes now
    customer_messages: set[int] = field(default_factory=set)  # tickets whose SLA is refreshed afterwards
    used_bytes: dict[int, int] = field(default_factory=dict)
    _undo: list[Callable[[], object]] = field(default_factory=list)

    def add_existing(self, ticket: Ticket, used_bytes: int = 0) -> None:
        """Make a ticket read from the database available to the plan (with the bytes of its files)."""
        if ticket.id in self.tickets:
            return
        self.existing[ticket.id] = ticket
        self.used_bytes[ticket.id] = used_bytes
        self.tickets[ticket.id] = PlannedTicket(
            ticket.id,
            ticket.customer_id,
            ticket.organisation_id,
            ticket.subject,
            ticket.status,
            ticket.created_at,
        )

    def opened_for(self, customer_id: int) -> list[PlannedTicket]:
        """Tickets this batch opened for ``customer_id``, newest first."""
        found = [t for t in self.tickets.values() if t.opened and t.customer_id == customer_id]
        return sorted(found, key=lambda t: t.key)

    def savepoint(self) -> int:
        return len(self._undo)

    def rollback(self, savepoint: int) -> None:
        while len(self._undo) > savepoint:
            self._undo.pop()()

    def open(
        self,
        actor: Principal,
        customer: Customer,
        *,
        subject: str,
        description: str,
        body_html: str,
        channel: Channel,
        acknowledge: bool,
        thread_message_id: str | None,
    ) -> tuple[int, int]:
        """Plan ``TicketService.open_in`` for a customer; returns (ticket key, message index).
        Raises ``InvalidInput`` for a blank subject."""
        line = " ".join(subject.split())[:300]
        if not line:
            raise InvalidInput("subject: must not be blank", field="subject")
        key = self._new_ticket(customer.id, customer.organisation_id, line)
        self._append(
            self.opened,
            OpenedTicket(key, actor, channel, customer.id, customer, acknowledge, thread_message_id),
        )
        index = self._message(key, MessageKind.CUSTOMER_MESSAGE, channel, customer.id, description, body_html)
        return key, index

    def customer_message(
        self, actor: Principal, ticket_key: int, *, body: str, body_html: str, channel: Channel
    ) -> tuple[int, int]:
        """Plan a customer's message on a ticket (reopening it, or a follow-up ticket when it is closed);
        returns (the key of the ticket the message is on, message index)."""
        ticket = self.tickets[ticket_key]
        target = status_after_customer_message(TicketStatus(ticket.status))
        if target is None:
            closed = self.existing[ticket_key]
            ticket_key = self._new_ticket(closed.customer_id, closed.organisation_id, closed.subject)
            self._append(
                self.opened, OpenedTicket(ticket_key, actor, channel, closed.customer_id, follow_up_of=closed)
            )
        elif target != ticket.status:
            self._append(self.moves, StatusMove(ticket_key, actor, target))
            self._set_status(ticket, target)
        self._touch(ticket_key)
        self._add(self.customer_messages, ticket_key)
        assert actor.customer_id is not None
        index = self._message(
            ticket_key, MessageKind.CUSTOMER_MESSAGE, channel, actor.customer_id, body, body_html
        )
        return ticket_key, index

    def system_message(
        self,
        ticket_key: int,
        *,
        body: str,
        body_html: str,
        channel: Channel,
        author_customer_id: int | None = None,
    ) -> int:
        """Plan ``add_system_message_in``: an internal note that changes no status and mails nobody."""
        return self._message(
            ticket_key, MessageKind.INTERNAL_NOTE, channel, author_customer_id, body, body_html
        )

    def attach(
        self,
        actor: Principal,
        message_index: int,
        *,
        filename: str,
        content_type: str | None,
        data: bytes,
        content_id: str | None,
    ) -> str | TicketText | None:
        """Plan a file on a planned message, with the limits of ``AttachmentService``; returns why it is
        refused (nothing is planned then), or None."""
        ticket_key = self.messages[message_index].ticket_key
        name = safe_filename(filename)
        if len(data) > self.max_attachment_bytes:
            return (
                f"{name}: {len(data)} bytes is over the limit of {self.max_attachment_bytes} bytes per file"
            )
        if not data:
            return f"{name} is empty"
        used = self.used_bytes.get(ticket_key, 0)
        if used + len(data) > self.max_ticket_attachment_bytes:
            return TicketText(
                "", ticket_key, f" would hold more than {self.max_ticket_attachment_bytes} bytes of files"
            )
        self._set_used(ticket_key, used + len(data))
        digest = hashlib.sha256(data).hexdigest()
        self._append(
            self.attachments,
            PlannedAttachment(
                ticket_key,
                message_index,
                actor,
                name,
                clean_content_type(content_type),
                data,
                digest,
                content_id[:255] if content_id else None,
            ),
        )
        self._touch(ticket_key)
        return None

    def _new_ticket(self, customer_id: int, organisation_id: int | None, subject: str) -> int:
        key = -(len([t for t in self.tickets.values() if t.opened]) + 1)
        self.tickets[key] = PlannedTicket(
            key, customer_id, organisation_id, subject, TicketStatus.NEW.value, self.now, opened=True
        )
        self._undo.append(lambda: self.tickets.pop(key))
        return key

    def _message(
        self, ticket_key: int, kind: MessageKind, channel: Channel, author: int | None, body: str, html: str
    ) -> int:
        self._append(self.messages, PlannedMessage(ticket_key, kind, channel, author, body, html))
        return len(self.messages) - 1

    def _append(self, items: list[_T], item: _T) -> None:
        items.append(item)
        self._undo.append(items.pop)

    def _add(self, items: set[int], key: int) -> None:
        if key not in items:
            items.add(key)
            self._undo.append(lambda: items.discard(key))

    def _touch(self, ticket_key: int) -> None:
        if ticket_key > 0:
            self._add(self.touched, ticket_key)

    def _set_status(self, ticket: PlannedTicket, status: str) -> None:
        old = ticket.status
        ticket.status = status
        self._undo.append(lambda: setattr(ticket, "status", old))

    def _set_used(self, ticket_key: int, used: int) -> None:
        old = self.used_bytes.get(ticket_key, 0)
        self.used_bytes[ticket_key] = used
        self._undo.append(lambda: self.used_bytes.__setitem__(ticket_key, old))
