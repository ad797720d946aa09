from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.core.db import Base, BigId, IntPK


class OutgoingMail(Base):
    """One message to send. ``sent_at`` is the marker that makes sending idempotent."""

    __tablename__ = "outgoing_mail"

    id: Mapped[IntPK]
    ticket_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("ticket.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(40))
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(400))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text, default="")
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    in_reply_to: Mapped[str | None] = mapped_column(String(998))
    references: Mapped[str | None] = mapped_column(Text)
    # "auto-replied" for acknowledgements, "auto-generated" for notifications, None for a person's reply.
    auto_submitted: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    failed_at: Mapped[datetime | None]


class MailReference(Base):
    """A Message-ID the help desk has received, mapped to its ticket, so replies thread.

    Outgoing mail keeps its own id in ``OutgoingMail.message_id``; threading reads both tables.
    """

    __tablename__ = "mail_reference"

    message_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
