"""Tables of the e-mail channel: every raw inbound mail, the addresses it was copied to, IMAP mailboxes.

The map of Message-IDs to tickets lives in ``helpdesk.notifications.models.MailReference``: outgoing mail
reads it to build In-Reply-To/References, and the notifications domain cannot import this channel.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.core.db import Base, BigId, IntPK


class InboundSource(StrEnum):
    IMAP = "imap"
    SMTP = "smtp"
    PIPE = "pipe"
    HTTP = "http"


class InboundStatus(StrEnum):
    PENDING = "pending"  # stored, not processed yet (or a processing attempt failed and will be retried)
    PROCESSED = "processed"  # became a ticket, a message on a ticket, or was attached as a bounce
    FLAGGED = "flagged"  # stored but deliberately not turned into a ticket: flag_reason says why
    FAILED = "failed"  # processing failed every attempt: flag_reason holds the last error
    DISMISSED = "dismissed"  # a person looked at a flagged or failed mail and set it aside (kept stored)


class InboundOutcome(StrEnum):
    NEW_TICKET = "new_ticket"
    REPLY = "reply"
    FOLLOW_UP = "follow_up"  # a reply to a closed ticket opened a new ticket linked to it
    BOUNCE = "bounce"
    AUTO_REPLY = "auto_reply"  # stored on its ticket without reopening it, never answered


class InboundMail(Base):
    """One raw message exactly as it arrived; the unique ``dedupe_key`` makes ingestion idempotent.

    ``dedupe_key`` is ``mid:<Message-ID>`` when the mail has one, else ``sha256:<digest of the bytes>``.
    """

    __tablename__ = "inbound_mail"
    __table_args__ = (Index("ix_inbound_mail_sender_received", "from_address", "received_at"),)

    id: Mapped[IntPK]
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    message_id: Mapped[str | None] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigId)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    source: Mapped[str] = mapped_column(String(10))
    # Which mailbox or listener it came through (an IMAP mailbox name, the SMTP recipient, "pipe").
    mailbox: Mapped[str | None] = mapped_column(String(320))
    received_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), index=True)
    outcome: Mapped[str | None] = mapped_column(String(20))
    flag_reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    processed_at: Mapped[datetime | None]
    # Set when processing starts: the sender (for caps) and whether the mail was machine-made.
    from_address: Mapped[str | None] = mapped_column(String(320))
    auto_submitted: Mapped[bool] = mapped_column(Boolean, default=False)
    # Whether this mail was answered automatically (the auto-reply cap counts these).
    acknowledged: Mapped[bool] = mapped_column(Boolean, default=False)
    ticket_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("ticket.id", ondelete="SET NULL"), index=True
    )
    ticket_message_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("ticket_message.id", ondelete="SET NULL")
    )


class InboundRecipient(Base):
    """Who else a processed mail was addressed to (To and Cc), so agents can copy them when answering."""

    __tablename__ = "inbound_mail_recipient"

    inbound_mail_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("inbound_mail.id", ondelete="CASCADE"), primary_key=True
    )
    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    kind: Mapped[str] = mapped_column(String(4))  # "to" or "cc"
    name: Mapped[str] = mapped_column(String(200), default="")
    ticket_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("ticket.id", ondelete="CASCADE"), index=True
    )


class MailboxSecurity(StrEnum):
    TLS = "tls"
    STARTTLS = "starttls"
    PLAIN = "plain"


class ProcessedAction(StrEnum):
    FLAG = "flag"  # mark \\Seen (and \\Flagged) and leave it in the folder
    MOVE = "move"  # move it to ``processed_folder``


class Mailbox(Base):
    """An IMAP mailbox the worker fetches from. The password is stored as given: use a dedicated account."""

    __tablename__ = "mail_mailbox"

    id: Mapped[IntPK]
    name: Mapped[str] = mapped_column(String(100), unique=True)
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer, default=993)
    security: Mapped[str] = mapped_column(String(10), default=MailboxSecurity.TLS)
    username: Mapped[str] = mapped_column(String(320))
    password: Mapped[str] = mapped_column(String(500))
    folder: Mapped[str] = mapped_column(String(200), default="INBOX")
    processed_action: Mapped[str] = mapped_column(String(10), default=ProcessedAction.FLAG)
    processed_folder: Mapped[str | None] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    last_fetched_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
