from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.core.db import Base, BigId, IntPK
from helpdesk.core.principal import Role

__all__ = ["ApiToken", "Group", "GroupMember", "LoginSession", "MagicLink", "Role", "User"]


class User(Base):
    """A member of staff."""

    __tablename__ = "staff_user"

    id: Mapped[IntPK]
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The language the person chose (en, ru); NULL: pages follow the browser.
    language: Mapped[str | None] = mapped_column(String(10))
    # An IANA name; NULL: the help desk's default zone.
    time_zone: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]


class Group(Base):
    """A queue of tickets worked by its members."""

    __tablename__ = "staff_group"

    id: Mapped[IntPK]
    name: Mapped[str] = mapped_column(String(100), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime]


class GroupMember(Base):
    __tablename__ = "group_member"

    group_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("staff_group.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True
    )


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[IntPK]
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class LoginSession(Base):
    """A browser session of a staff user or a customer; the cookie holds the token, the table its hash."""

    __tablename__ = "login_session"

    id: Mapped[IntPK]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff_user.id", ondelete="CASCADE"))
    customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customer.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class MagicLink(Base):
    __tablename__ = "magic_link"

    id: Mapped[IntPK]
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customer.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
