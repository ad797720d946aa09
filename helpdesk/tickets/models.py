from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.core.db import Base, BigId, IntPK

REPORTED_TIMES = ["first_responded_at", "resolved_at"]


class Ticket(Base):
    __tablename__ = "ticket"
    __table_args__ = (
        Index("ix_ticket_queue_order", "status", "sla_due_at", "priority", "id"),
        # The queue's order across every open status (a page is read in index order, not sorted), and the
        # "due before" ranges of the dashboard's alerts.
        Index("ix_ticket_sla_due_order", "sla_due_at", "priority", "id"),
        # The dashboard's newest tickets of a period, of all, of a queue, of an organisation (the queue and
        # organisation ones also serve every filter by queue or organisation). Covering on PostgreSQL: the
        # response and resolution times are read from the index alone.
        Index("ix_ticket_created_at", "created_at", postgresql_include=REPORTED_TIMES),
        Index("ix_ticket_queue_created", "queue_id", "created_at", postgresql_include=REPORTED_TIMES),
        Index(
            "ix_ticket_organisation_created",
            "organisation_id",
            "created_at",
            postgresql_include=REPORTED_TIMES,
        ),
        # The queue's text search (ILIKE '%words%'): a trigram index on PostgreSQL (a plain one on SQLite,
        # where the schema check wants the same indexes and small databases need none).
        Index(
            "ix_ticket_subject_trgm",
            "subject",
            postgresql_using="gin",
            postgresql_ops={"subject": "gin_trgm_ops"},
        ),
    )

    id: Mapped[IntPK]
    subject: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), index=True)
    priority: Mapped[str] = mapped_column(String(2))
    impact: Mapped[str | None] = mapped_column(String(10))
    urgency: Mapped[str | None] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(10))
    queue_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff_group.id"))
    assignee_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff_user.id"), index=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customer.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("organisation.id"))
    # A ticket opened by a reply to a closed ticket points back at it.
    previous_ticket_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("ticket.id"))
    # The secret of the public tracking link; knowing it is the permission to see this ticket.
    tracking_token: Mapped[str] = mapped_column(String(64), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    first_responded_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    first_response_due_at: Mapped[datetime | None]
    next_response_due_at: Mapped[datetime | None]
    resolution_due_at: Mapped[datetime | None]
    # The earliest of the due dates above: the agents' queue sorts by it.
    sla_due_at: Mapped[datetime | None]
    # When the escalation sweep must look at this ticket next (a warning or a breach to notify).
    sla_next_escalation_at: Mapped[datetime | None] = mapped_column(index=True)

    __mapper_args__ = {"version_id_col": version}

    @property
    def reference(self) -> str:
        return f"HD-{self.id}"


class TicketTag(Base):
    __tablename__ = "ticket_tag"

    ticket_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(50), primary_key=True, index=True)


class Message(Base):
    __tablename__ = "ticket_message"

    id: Mapped[IntPK]
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(10))
    author_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff_user.id"))
    author_customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customer.id"))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]


class Attachment(Base):
    __tablename__ = "attachment"

    id: Mapped[IntPK]
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("ticket_message.id", ondelete="SET NULL")
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigId)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content_id: Mapped[str | None] = mapped_column(String(255))
    # Where the bytes live: "db" (attachment_blob) or "disk" (a file named by sha256).
    storage: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime]


class AttachmentBlob(Base):
    """Attachment bytes kept in the database, shared by every attachment with the same content."""

    __tablename__ = "attachment_blob"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class AuditEvent(Base):
    """One change to one field, by whom and when."""

    __tablename__ = "audit_event"

    id: Mapped[IntPK]
    entity: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[int] = mapped_column(BigId)
    ticket_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("ticket.id", ondelete="CASCADE"), index=True
    )
    actor: Mapped[str] = mapped_column(String(200))
    actor_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff_user.id"))
    actor_customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customer.id"))
    field: Mapped[str] = mapped_column(String(50))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
