"""API shapes of tickets, messages, attachments and audit events."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from helpdesk.core.types import Email, Id, LongText, Name, ShortText, Tag
from helpdesk.tickets.rules import Channel, Level, MessageKind, Priority, TicketStatus

Tags = Annotated[list[Tag], msgspec.Meta(max_length=20)]


class TicketCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new request. Customers leave out the customer fields; staff name the customer (phone tickets)."""

    subject: ShortText
    description: LongText
    customer_email: Email | msgspec.UnsetType = msgspec.UNSET
    customer_name: Name | msgspec.UnsetType = msgspec.UNSET
    customer_id: Id | msgspec.UnsetType = msgspec.UNSET
    impact: Level | msgspec.UnsetType = msgspec.UNSET
    urgency: Level | msgspec.UnsetType = msgspec.UNSET
    priority: Priority | msgspec.UnsetType = msgspec.UNSET
    queue_id: Id | msgspec.UnsetType = msgspec.UNSET
    channel: Literal["web", "api", "phone", "email"] | msgspec.UnsetType = msgspec.UNSET
    tags: Tags = msgspec.field(default_factory=list)


class TicketUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Fields to change; ``version`` is the one the client last read (a stale one gets 409)."""

    version: Id
    subject: ShortText | msgspec.UnsetType = msgspec.UNSET
    status: TicketStatus | msgspec.UnsetType = msgspec.UNSET
    priority: Priority | msgspec.UnsetType = msgspec.UNSET
    queue_id: Id | msgspec.UnsetType | None = msgspec.UNSET
    assignee_id: Id | msgspec.UnsetType | None = msgspec.UNSET
    tags: Tags | msgspec.UnsetType = msgspec.UNSET


class MessageCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    body: LongText
    # Staff choose; a customer's message is always a customer message.
    kind: Literal["public_reply", "internal_note"] = "public_reply"
    status: TicketStatus | msgspec.UnsetType = msgspec.UNSET


class TicketRead(msgspec.Struct, kw_only=True):
    id: int
    reference: str
    subject: str
    status: TicketStatus
    priority: Priority
    channel: Channel
    customer_id: int
    organisation_id: int | None
    queue_id: int | None
    assignee_id: int | None
    tags: list[str]
    version: int
    created_at: datetime
    updated_at: datetime
    first_responded_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    first_response_due_at: datetime | None
    next_response_due_at: datetime | None
    resolution_due_at: datetime | None
    sla_due_at: datetime | None
    previous_ticket_id: int | None = None
    tracking_url: str | None = None


class MessageRead(msgspec.Struct, kw_only=True):
    id: int
    kind: MessageKind
    channel: Channel
    author: str
    author_user_id: int | None
    author_customer_id: int | None
    body_text: str
    body_html: str
    created_at: datetime


class AttachmentRead(msgspec.Struct, kw_only=True):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    message_id: int | None
    created_at: datetime
    url: str


class AuditRead(msgspec.Struct, kw_only=True):
    actor: str
    field: str
    old_value: str | None
    new_value: str | None
    created_at: datetime


class TicketDetail(TicketRead, kw_only=True):
    messages: list[MessageRead]
    attachments: list[AttachmentRead]
    audit: list[AuditRead]


class TicketPage(msgspec.Struct, kw_only=True):
    items: list[TicketRead]
    # Exact up to 10,000; beyond that ``total_capped`` is true and ``total`` is 10,000.
    total: int
    limit: int
    offset: int
    total_capped: bool = False


class TrackingView(msgspec.Struct, kw_only=True):
    """What the public tracking link shows: status and the public conversation, nothing internal."""

    reference: str
    subject: str
    status: TicketStatus
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    messages: list[MessageRead]
    attachments: list[AttachmentRead]


class TicketFilters(msgspec.Struct, kw_only=True):
    queue_id: int | None = None
    status: list[TicketStatus] | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    customer_id: int | None = None
    organisation_id: int | None = None
    priority: list[Priority] | None = None
    tag: str | None = None
    text: str | None = None
