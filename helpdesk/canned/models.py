"""The canned response table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.core.db import Base, BigId, IntPK


class CannedResponse(Base):
    """A reply text an agent inserts into the composer. ``owner_id`` null means shared with the whole desk."""

    __tablename__ = "canned_response"

    id: Mapped[IntPK]
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # A language code ("en", "ru") or "" for any language.
    language: Mapped[str] = mapped_column(String(10), default="")
    owner_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("staff_user.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
