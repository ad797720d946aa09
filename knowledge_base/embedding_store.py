"""The semantic stage's article vectors kept in the database (``kb_article_embedding``), so that a process
start, and every further API replica or worker, loads them instead of running the model on every article.

A row is one text of one article (the whole text or a chunk), keyed by what its vector depends on: the
article, the text's SHA-256, the model's name and version, and the e5 side. Hence a row is never wrong,
only missing (the text is embedded and the row added) or left over (a text the article no longer has:
removed when the article is embedded again). Rows of a deleted article go with it (the foreign key
cascades); an archived article keeps its rows for when it is published again.

Two processes starting at once both find no rows, both embed, and both insert the same keys: the
insert skips keys already there (ON CONFLICT DO NOTHING on PostgreSQL and SQLite alike), so the second
writes nothing and neither fails.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import and_, bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from helpdesk.core.db import table_of, transaction
from knowledge_base.article_vectors import ArticleEmbedding, Float32Array
from knowledge_base.models import KbArticle, KbArticleEmbedding
from knowledge_base.semantic import TextKey, keyed_vectors

# Articles per query when reading rows (each has a few dozen texts of 1.5 kB).
READ_BATCH = 500
_TABLE = table_of(KbArticleEmbedding)
# Little-endian float32 whatever the machine, so every replica reads what any other wrote.
_FLOAT32 = np.dtype("<f4")


def vector_bytes(vector: Float32Array) -> bytes:
    return np.ascontiguousarray(vector, dtype=_FLOAT32).tobytes()


def vector_from_bytes(data: bytes) -> Float32Array:
    return np.frombuffer(data, dtype=_FLOAT32).astype(np.float32)


@dataclass(frozen=True, slots=True)
class StoreChanges:
    """What to write so the table holds exactly the texts of the given embeddings (of those articles)."""

    rows: list[dict[str, Any]]
    stale: list[dict[str, Any]]


def store_changes(
    model: str,
    embeddings: Iterable[tuple[str, ArticleEmbedding]],
    stored: Mapping[str, Mapping[TextKey, Float32Array]],
) -> StoreChanges:
    """The rows to insert (texts not stored yet) and the keys to delete (stored texts the article no
    longer has), given what was read for these articles; pure."""
    rows: list[dict[str, Any]] = []
    stale: list[dict[str, Any]] = []
    for article_id, embedding in embeddings:
        current = keyed_vectors(embedding)
        held = stored.get(article_id, {})
        rows += [
            {
                "article_id": int(article_id),
                "model": model,
                "side": side,
                "text_sha256": digest,
                "vector": vector_bytes(vector),
            }
            for (side, digest), vector in current.items()
            if (side, digest) not in held
        ]
        stale += [
            {"a": int(article_id), "m": model, "s": side, "h": digest}
            for side, digest in held
            if (side, digest) not in current
        ]
    return StoreChanges(rows, stale)


async def load_vectors(
    sessions: async_sessionmaker[AsyncSession], model: str, article_ids: Sequence[str]
) -> dict[str, dict[TextKey, Float32Array]]:
    """The stored vectors of ``model`` for these articles, by article id, then by text key."""
    found: dict[str, dict[TextKey, Float32Array]] = {}
    async with sessions() as session:
        for start in range(0, len(article_ids), READ_BATCH):
            batch = [int(article_id) for article_id in article_ids[start : start + READ_BATCH]]
            rows = await session.execute(
                select(_TABLE.c.article_id, _TABLE.c.side, _TABLE.c.text_sha256, _TABLE.c.vector).where(
                    _TABLE.c.article_id.in_(batch), _TABLE.c.model == model
                )
            )
            for article_id, side, digest, data in rows:
                found.setdefault(str(article_id), {})[(side, digest)] = vector_from_bytes(data)
    return found


async def save_vectors(
    sessions: async_sessionmaker[AsyncSession],
    model: str,
    embeddings: Sequence[tuple[str, ArticleEmbedding]],
    stored: Mapping[str, Mapping[TextKey, Float32Array]],
) -> StoreChanges:
    """Make the stored rows of these articles match their embeddings (``stored``: what
    ``load_vectors`` returned for them). Writes nothing when nothing changed; an article deleted
    meanwhile gets no rows. Returns what it wrote."""
    changes = store_changes(model, embeddings, stored)
    if not changes.rows and not changes.stale:
        return changes
    async with transaction(sessions) as session:
        if changes.stale:
            statement = delete(_TABLE).where(
                and_(
                    _TABLE.c.article_id == bindparam("a"),
                    _TABLE.c.model == bindparam("m"),
                    _TABLE.c.side == bindparam("s"),
                    _TABLE.c.text_sha256 == bindparam("h"),
                )
            )
            await (await session.connection()).execute(statement, changes.stale)
        if changes.rows:
            live = await _lock_articles(session, {row["article_id"] for row in changes.rows})
            rows = [row for row in changes.rows if row["article_id"] in live]
            if rows:
                dialect = session.get_bind().dialect.name
                insert_for = postgresql_insert if dialect == "postgresql" else sqlite_insert
                await session.execute(insert_for(_TABLE).on_conflict_do_nothing(), rows)
    return changes


async def _lock_articles(session: AsyncSession, article_ids: set[int]) -> set[int]:
    """The articles that still exist, locked against deletion until commit (FOR KEY SHARE on
    PostgreSQL; SQLite's write transaction already excludes other writers): a row inserted for an
    article deleted meanwhile would fail on the foreign key."""
    live: set[int] = set()
    ordered = sorted(article_ids)
    for start in range(0, len(ordered), READ_BATCH):
        batch = ordered[start : start + READ_BATCH]
        live.update(
            await session.scalars(
                select(KbArticle.id).where(KbArticle.id.in_(batch)).with_for_update(read=True, key_share=True)
            )
        )
    return live
