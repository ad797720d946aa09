from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.core.db import Base, BigId, IntPK


class Organisation(Base):
    __tablename__ = "organisation"

    id: Mapped[IntPK]
    name: Mapped[str] = mapped_column(String(200), unique=True)
    domain: Mapped[str | None] = mapped_column(String(255))
    # Members may see every ticket of the organisation, not only their own.
    shares_tickets: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


class Customer(Base):
    __tablename__ = "customer"

    id: Mapped[IntPK]
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str | None] = mapped_column(String(50))
    organisation_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("organisation.id"), index=True)
    # The language the customer chose (en, ru) for pages and mail; NULL: the browser's, mail in the default.
    language: Mapped[str | None] = mapped_column(String(10))
    # An IANA name; NULL: the help desk's default zone.
    time_zone: Mapped[str | None] = mapped_column(String(64))
    # Set when mail to this address bounced; cleared when the customer writes again.
    bouncing_since: Mapped[datetime | None]
    created_at: Mapped[datetime]
