"""Import and export of articles as JSON Lines (the format of ``knowledge_base.importer``).

The import is all or nothing and idempotent: the file's ``id`` is the article's ``external_id``, so
importing the same file again updates the articles it names (a version only where something changed)
instead of duplicating them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import select

from helpdesk.core.context import AppContext
from helpdesk.core.db import transaction
from helpdesk.core.principal import SYSTEM, Principal
from knowledge_base.importer import ArticleRecord
from knowledge_base.live_index import mark_index_stale
from knowledge_base.models import KbArticle
from knowledge_base.service import apply_changes, bump_state, record_version, zero_counts


class TransferService:
    def __init__(self, context: AppContext) -> None:
        self.context = context

    async def import_records(
        self,
        records: Sequence[ArticleRecord],
        principal: Principal = SYSTEM,
        *,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[int, int]:
        """Create or update one article per record, keyed by ``external_id``, in one transaction (all or
        nothing); an unchanged record makes no new version. ``progress`` gets the count of records
        done. Returns (created, updated)."""
        now = self.context.clock.now()
        created = updated = 0
        async with transaction(self.context.sessions) as session:
            version = await bump_state(session)
            existing: dict[str | None, KbArticle] = {}
            ids = [record.id for record in records]
            for start in range(0, len(ids), 1000):
                chunk = select(KbArticle).where(KbArticle.external_id.in_(ids[start : start + 1000]))
                existing.update((row.external_id, row) for row in await session.scalars(chunk))
            touched: list[KbArticle] = []
            for number, record in enumerate(records, start=1):
                fields = _record_fields(record)
                article = existing.get(record.id)
                if article is None:
                    article = KbArticle(
                        external_id=record.id,
                        translation_group=uuid.uuid4().hex,
                        version=1,
                        created_at=now,
                        **zero_counts(),
                    )
                    apply_changes(article, fields, now)
                    session.add(article)
                    touched.append(article)
                    created += 1
                elif changed := {k: v for k, v in fields.items() if getattr(article, k) != v}:
                    apply_changes(article, changed, now)
                    article.version += 1
                    touched.append(article)
                    updated += 1
                if progress is not None:
                    progress(number)
            for article in touched:
                article.changed_version = version
            await session.flush()
            for article in touched:
                record_version(session, article, principal, now, name="import")
        mark_index_stale(self.context)
        return created, updated

    async def export(self) -> Iterator[dict[str, Any]]:
        """Every article as an import line (its external id, or ``kb-<id>`` for articles made here)."""
        async with self.context.sessions() as session:
            rows = list(await session.scalars(select(KbArticle).order_by(KbArticle.id)))
        return (_export_row(row) for row in rows)


def _record_fields(record: ArticleRecord) -> dict[str, Any]:
    return {
        "title": record.title,
        "summary": record.summary,
        "body_markdown": record.body,
        "language": record.language,
        "tags": list(record.tags),
        "category": record.category,
        "status": str(record.status),
        "visibility": str(record.visibility),
    }


def _export_row(row: KbArticle) -> dict[str, Any]:
    return {
        "id": row.external_id or f"kb-{row.id}",
        "title": row.title,
        "body": row.body_markdown,
        "language": row.language,
        "summary": row.summary,
        "tags": row.tags,
        "category": row.category,
        "visibility": row.visibility,
        "status": row.status,
    }
