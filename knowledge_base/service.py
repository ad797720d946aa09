"""Article commands and reads: create, edit (a version per edit), delete, translations, feedback, links, import.

Staff (admin, manager, agent) write; customers and anonymous readers see published public articles only,
and anything else is "not found" to them. Every change to what the search index holds bumps the
``kb_state`` counter in the same transaction (see ``knowledge_base.live_index``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import Select, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.core.context import AppContext
from helpdesk.core.db import transaction
from helpdesk.core.errors import Conflict, InvalidInput, NotFound
from helpdesk.core.principal import STAFF_ROLES, Principal, require_role
from knowledge_base.analysis import SUPPORTED_LANGUAGES
from knowledge_base.live_index import STATE_ROW, mark_index_stale
from knowledge_base.models import KbArticle, KbArticleLink, KbArticleVersion, KbState
from knowledge_base.rendering import render_markdown, unified_diff
from knowledge_base.schemas import (
    ArticleCreate,
    ArticlePage,
    ArticleRead,
    ArticleUpdate,
    VersionDiff,
    VersionRead,
)
from knowledge_base.views import article_read, article_summary, version_read


def check_language(language: str) -> str:
    if language not in SUPPORTED_LANGUAGES:
        allowed = ", ".join(sorted(SUPPORTED_LANGUAGES))
        raise InvalidInput(
            f"language: unknown code {language!r} (expected one of: {allowed})", field="language"
        )
    return language


def readable_by(principal: Principal) -> Callable[[Select[Any]], Select[Any]]:
    """The filter a reader's queries get: staff read everything, others published public articles."""
    if principal.is_staff:
        return lambda query: query
    return lambda query: query.where(KbArticle.status == "published", KbArticle.visibility == "public")


async def bump_state(session: AsyncSession) -> int:
    """Advance the index counter in this transaction and return its new value (the row lock orders
    concurrent writers, so counters become visible in commit order)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(KbState)
        .values(id=STATE_ROW, version=1)
        .on_conflict_do_update(index_elements=[KbState.id], set_={"version": KbState.version + 1})
        .returning(KbState.version)
    )
    return int((await session.execute(statement)).scalar_one())


class ArticleService:
    def __init__(self, context: AppContext) -> None:
        self.context = context

    async def _changed(self) -> None:
        mark_index_stale(self.context)

    async def create(self, principal: Principal, data: ArticleCreate) -> ArticleRead:
        """Create an article (version 1). Raises ``PermissionDenied``, ``InvalidInput`` (language,
        unknown ``translation_of``), ``Conflict`` (the group has an article in that language already)."""
        require_role(principal, *STAFF_ROLES)
        check_language(data.language)
        now = self.context.clock.now()
        async with transaction(self.context.sessions) as session:
            group = uuid.uuid4().hex
            if data.translation_of is not None:
                original = await session.get(KbArticle, data.translation_of)
                if original is None:
                    raise InvalidInput(
                        f"article {data.translation_of} does not exist", field="translation_of"
                    )
                group = original.translation_group
            article = KbArticle(
                translation_group=group,
                language=data.language,
                title=data.title.strip(),
                summary=data.summary,
                body_markdown=data.body,
                body_html=render_markdown(data.body),
                tags=list(dict.fromkeys(data.tags)),
                category=data.category,
                status=data.status,
                visibility=data.visibility,
                version=1,
                created_by_id=principal.user_id,
                created_at=now,
                updated_at=now,
                published_at=now if data.status == "published" else None,
                **zero_counts(),
            )
            session.add(article)
            await _flush_translation(session, data.language)
            article.changed_version = await bump_state(session)
            record_version(session, article, principal, now)
            result = await self._read(session, article)
        await self._changed()
        return result

    async def update(self, principal: Principal, article_id: int, data: ArticleUpdate) -> ArticleRead:
        """Apply the changes and keep the previous text as a version. Raises ``NotFound``,
        ``PermissionDenied``, ``InvalidInput``, ``Conflict`` (stale ``version``, taken language)."""
        require_role(principal, *STAFF_ROLES)
        now = self.context.clock.now()
        async with transaction(self.context.sessions) as session:
            article = await _get(session, article_id)
            if data.version is not msgspec.UNSET and data.version != article.version:
                raise Conflict(
                    f"article {article_id} was changed by someone else (you sent version {data.version}, "
                    f"it is now {article.version}); reload and try again",
                    field="version",
                    code="stale_version",
                )
            changes = {
                name: value
                for name in ("title", "summary", "tags", "category", "status", "visibility", "language")
                if (value := getattr(data, name)) is not msgspec.UNSET
            }
            if "language" in changes:
                check_language(changes["language"])
            if "tags" in changes:
                changes["tags"] = list(dict.fromkeys(changes["tags"]))
            if data.body is not msgspec.UNSET:
                changes["body_markdown"] = data.body
            changed = {name: value for name, value in changes.items() if getattr(article, name) != value}
            if changed:
                apply_changes(article, changed, now)
                article.version += 1
                await _flush_translation(session, article.language)
                article.changed_version = await bump_state(session)
                record_version(session, article, principal, now)
            result = await self._read(session, article)
        if changed:
            await self._changed()
        return result

    async def delete(self, principal: Principal, article_id: int) -> None:
        """Delete an article with its versions and suggestions. Raises ``NotFound``, ``PermissionDenied``."""
        require_role(principal, *STAFF_ROLES)
        async with transaction(self.context.sessions) as session:
            await session.delete(await _get(session, article_id))
            await bump_state(session)
        await self._changed()

    async def get(self, principal: Principal, article_id: int, *, count_view: bool = True) -> ArticleRead:
        """One article as ``principal`` may see it (counting a view). Raises ``NotFound``."""
        async with transaction(self.context.sessions) as session:
            article = await _get(session, article_id, readable_by(principal))
            if count_view:
                article.view_count += 1
            return await self._read(session, article, principal)

    async def list_articles(
        self,
        principal: Principal,
        *,
        status: str | None = None,
        language: str | None = None,
        category: str | None = None,
        tag: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> ArticlePage:
        """Articles newest first, filtered; readers other than staff get published public ones only."""
        query = readable_by(principal)(select(KbArticle))
        if status is not None:
            query = query.where(KbArticle.status == status)
        if language is not None:
            query = query.where(KbArticle.language == language)
        if category is not None:
            query = query.where(KbArticle.category == category)
        ordered = query.order_by(KbArticle.updated_at.desc(), KbArticle.id.desc())
        async with self.context.sessions() as session:
            if tag is None:
                total = int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)
                rows = list(await session.scalars(ordered.limit(limit).offset(offset)))
                return ArticlePage(items=[article_summary(row) for row in rows], total=total)
            # Tags are a JSON list (portable across SQLite and PostgreSQL): that filter runs here.
            tagged = [row for row in await session.scalars(ordered) if tag in row.tags]
        return ArticlePage(
            items=[article_summary(row) for row in tagged[offset : offset + limit]], total=len(tagged)
        )

    async def list_versions(self, principal: Principal, article_id: int) -> list[VersionRead]:
        require_role(principal, *STAFF_ROLES)
        async with self.context.sessions() as session:
            await _get(session, article_id)
            rows = await session.scalars(
                select(KbArticleVersion)
                .where(KbArticleVersion.article_id == article_id)
                .order_by(KbArticleVersion.version.desc())
            )
            return [version_read(row) for row in rows]

    async def diff(self, principal: Principal, article_id: int, old: int, new: int) -> VersionDiff:
        """A unified diff between two versions of an article. Raises ``NotFound``, ``PermissionDenied``."""
        require_role(principal, *STAFF_ROLES)
        async with self.context.sessions() as session:
            await _get(session, article_id)
            versions = {
                row.version: row
                for row in await session.scalars(
                    select(KbArticleVersion).where(
                        KbArticleVersion.article_id == article_id, KbArticleVersion.version.in_((old, new))
                    )
                )
            }
        for number in (old, new):
            if number not in versions:
                raise NotFound(f"article {article_id} has no version {number}", field="version")
        return VersionDiff(
            from_version=old,
            to_version=new,
            diff=unified_diff(
                _as_text(versions[old]), _as_text(versions[new]), old_label=f"v{old}", new_label=f"v{new}"
            ),
        )

    async def feedback(self, principal: Principal, article_id: int, *, helpful: bool) -> ArticleRead:
        """Count one "was this helpful?" answer. Raises ``NotFound`` for an article the reader cannot see."""
        column = KbArticle.helpful_count if helpful else KbArticle.not_helpful_count
        return await self._count(principal, article_id, column.key)

    async def deflect(self, principal: Principal, article_id: int) -> ArticleRead:
        """Count "this solved my problem" (a request that did not become a ticket); also a helpful mark."""
        await self._count(principal, article_id, KbArticle.deflection_count.key)
        return await self._count(principal, article_id, KbArticle.helpful_count.key)

    async def _count(self, principal: Principal, article_id: int, column: str) -> ArticleRead:
        async with transaction(self.context.sessions) as session:
            article = await _get(session, article_id, readable_by(principal))
            await session.execute(
                update(KbArticle)
                .where(KbArticle.id == article_id)
                .values({column: getattr(KbArticle, column) + 1})
            )
            await session.refresh(article)
            return await self._read(session, article, principal)

    async def link(self, principal: Principal, article_id: int, ticket_id: int) -> bool:
        """Record that an agent linked the article into a reply on the ticket; once per ticket (returns
        whether this call counted). Raises ``NotFound`` (article or ticket), ``PermissionDenied``."""
        require_role(principal, *STAFF_ROLES)
        from knowledge_base.tickets import ticket_exists

        async with transaction(self.context.sessions) as session:
            await _get(session, article_id)
            if not await ticket_exists(session, ticket_id):
                raise NotFound(f"ticket {ticket_id} not found", field="ticket_id")
            exists = await session.scalar(
                select(KbArticleLink.id).where(
                    KbArticleLink.article_id == article_id, KbArticleLink.ticket_id == ticket_id
                )
            )
            if exists is not None:
                return False
            session.add(
                KbArticleLink(
                    article_id=article_id,
                    ticket_id=ticket_id,
                    user_id=principal.user_id,
                    created_at=self.context.clock.now(),
                )
            )
            await session.execute(
                update(KbArticle)
                .where(KbArticle.id == article_id)
                .values(link_count=KbArticle.link_count + 1)
            )
        return True

    async def _read(
        self, session: AsyncSession, article: KbArticle, principal: Principal | None = None
    ) -> ArticleRead:
        await session.flush()
        query = select(KbArticle).where(
            KbArticle.translation_group == article.translation_group, KbArticle.id != article.id
        )
        if principal is not None:
            query = readable_by(principal)(query)
        siblings = list(await session.scalars(query.order_by(KbArticle.language)))
        return article_read(article, siblings)


def zero_counts() -> dict[str, int]:
    names = ("view_count", "helpful_count", "not_helpful_count", "deflection_count", "link_count")
    return dict.fromkeys(names, 0)


def apply_changes(article: KbArticle, changes: dict[str, Any], now: datetime) -> None:
    for name, value in changes.items():
        setattr(article, name, value)
    if "body_markdown" in changes:
        article.body_html = render_markdown(changes["body_markdown"])
    if changes.get("status") == "published" and article.published_at is None:
        article.published_at = now
    article.updated_at = now


def record_version(
    session: AsyncSession, article: KbArticle, principal: Principal, now: datetime, *, name: str | None = None
) -> None:
    session.add(
        KbArticleVersion(
            article_id=article.id,
            version=article.version,
            title=article.title,
            summary=article.summary,
            body_markdown=article.body_markdown,
            tags=list(article.tags),
            category=article.category,
            status=article.status,
            visibility=article.visibility,
            edited_by_id=principal.user_id,
            edited_by=name or principal.label,
            created_at=now,
        )
    )


def _as_text(version: KbArticleVersion) -> str:
    header = (
        f"title: {version.title}\nsummary: {version.summary}\ntags: {', '.join(version.tags)}\n"
        f"category: {version.category or ''}\nstatus: {version.status}\nvisibility: {version.visibility}\n\n"
    )
    return header + version.body_markdown + ("" if version.body_markdown.endswith("\n") else "\n")


async def _get(
    session: AsyncSession, article_id: int, scope: Callable[[Select[Any]], Select[Any]] | None = None
) -> KbArticle:
    query = select(KbArticle).where(KbArticle.id == article_id)
    article: KbArticle | None = await session.scalar(scope(query) if scope else query)
    if article is None:
        raise NotFound(f"article {article_id} not found")
    return article


async def _flush_translation(session: AsyncSession, language: str) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(
            f"this article's translation group has a {language!r} article already", field="language"
        ) from exc
