"""Knowledge-base tables: articles, their versions, categories, the index's change counter, the semantic
stage's stored embeddings, ticket suggestions and links.

Tickets and staff users belong to ``helpdesk``; they are referenced here by table name only.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.core.db import Base, BigId, IntPK


class KbArticle(Base):
    __tablename__ = "kb_article"
    __table_args__ = (UniqueConstraint("translation_group", "language"),)

    id: Mapped[IntPK]
    # The id in an imported file; importing the same file again updates the article it names.
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    # Translations of one article share a group (the id of the article they were translated from).
    translation_group: Mapped[str] = mapped_column(String(64), index=True)
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    body_markdown: Mapped[str] = mapped_column(Text)
    # Rendered and sanitised once per edit, so readers never run the renderer.
    body_html: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    category: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), index=True)
    visibility: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The kb_state counter at this article's last change: search indexes catch up on rows above theirs.
    changed_version: Mapped[int] = mapped_column(BigInteger, default=0, index=True)
    view_count: Mapped[int] = mapped_column(Integer, default=0)
    helpful_count: Mapped[int] = mapped_column(Integer, default=0)
    not_helpful_count: Mapped[int] = mapped_column(Integer, default=0)
    deflection_count: Mapped[int] = mapped_column(Integer, default=0)
    link_count: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    published_at: Mapped[datetime | None]


class KbArticleVersion(Base):
    """What an article said after each edit (version 1 is the creation), and who made it."""

    __tablename__ = "kb_article_version"
    __table_args__ = (UniqueConstraint("article_id", "version"),)

    id: Mapped[IntPK]
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("kb_article.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    body_markdown: Mapped[str] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    category: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))
    visibility: Mapped[str] = mapped_column(String(20))
    edited_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff_user.id", ondelete="SET NULL"))
    edited_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class KbCategory(Base):
    """A category as the administrators arrange it (nested under ``parent_id``, ordered by ``position`` among
    its siblings). Articles name their category in ``KbArticle.category``, so a rename renames theirs too."""

    __tablename__ = "kb_category"

    id: Mapped[IntPK]
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # A category with subcategories is not deleted (the service refuses it first; the key backs that up).
    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("kb_category.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class KbState(Base):
    """One row: a counter bumped in the transaction of every article change, read by each process's index."""

    __tablename__ = "kb_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class KbArticleEmbedding(Base):
    """One text of an article as the semantic stage embedded it: its whole text (e5 side ``passage``) or one
    chunk (side ``query``), keyed by everything the vector depends on, so a process starting up loads it
    instead of running the model again (``knowledge_base.embedding_store``).

    A row is never wrong, only missing or left over: the key is the text's SHA-256, the model's name and
    version and the side, and the vector is float32 bytes (little-endian), the same on every backend.
    """

    __tablename__ = "kb_article_embedding"

    article_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("kb_article.id", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(100), primary_key=True)
    side: Mapped[str] = mapped_column(String(8), primary_key=True)
    text_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class KbTicketSuggestion(Base):
    """The articles suggested for a new ticket, with the score they had when computed."""

    __tablename__ = "kb_ticket_suggestion"
    __table_args__ = (UniqueConstraint("ticket_id", "article_id"),)

    id: Mapped[IntPK]
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("kb_article.id", ondelete="CASCADE"))
    rank: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime]


class KbArticleLink(Base):
    """An agent linked an article into a reply on a ticket (counted once per ticket); feeds the ranking."""

    __tablename__ = "kb_article_link"
    __table_args__ = (
        UniqueConstraint("article_id", "ticket_id"),
        Index("ix_kb_article_link_ticket_id", "ticket_id"),
    )

    id: Mapped[IntPK]
    article_id: Mapped[int] = mapped_column(BigId, ForeignKey("kb_article.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("ticket.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
