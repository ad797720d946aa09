"""Knowledge-base categories as administrators arrange them: create, rename (the articles follow), nest,
reorder among siblings, delete (refused while articles or subcategories use the category).

Articles name their category in ``KbArticle.category`` (a string, as the API and imports have always sent it);
names are unique regardless of case, so a name identifies one category wherever it is nested.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Literal

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.core.context import AppContext
from helpdesk.core.db import transaction
from helpdesk.core.errors import Conflict, InvalidInput, NotFound
from helpdesk.core.principal import Principal, Role, require_role
from knowledge_base.live_index import mark_index_stale
from knowledge_base.models import KbArticle, KbCategory
from knowledge_base.schemas import (
    CategoryCreate,
    CategoryRead,
    CategoryTree,
    CategoryUpdate,
    UnlistedCategory,
)
from knowledge_base.service import bump_state, record_version

CATEGORY_ADMINS = (Role.ADMIN,)
Direction = Literal["up", "down"]


class CategoryInUse(Conflict):
    """Articles still name the category: they must be moved to another one first."""

    code = "category_in_use"

    def __init__(self, name: str, article_count: int) -> None:
        super().__init__(
            f"{name!r} is used by {article_count} article(s); move them to another category first"
        )
        self.article_count = article_count


class CategoryService:
    def __init__(self, context: AppContext) -> None:
        self.context = context

    async def list_categories(self, principal: Principal) -> CategoryTree:
        """Every category, parents before children and siblings by position, with its article count; and the
        names articles use that are not in the list. Two queries whatever the number of categories."""
        require_role(principal, *CATEGORY_ADMINS)
        async with self.context.sessions() as session:
            rows = list(await session.scalars(select(KbCategory)))
            counts: dict[str, int] = {
                str(name): int(count)
                for name, count in await session.execute(
                    select(KbArticle.category, func.count())
                    .where(KbArticle.category.is_not(None))
                    .group_by(KbArticle.category)
                )
            }
        listed = {row.name for row in rows}
        unlisted = [
            UnlistedCategory(name=name, article_count=count)
            for name, count in sorted(counts.items())
            if name not in listed
        ]
        return CategoryTree(items=list(_tree(rows, counts)), unlisted=unlisted)

    async def create(self, principal: Principal, data: CategoryCreate) -> CategoryRead:
        """Add a category at the end of its siblings. Raises ``PermissionDenied``, ``Conflict`` (the name is
        taken), ``InvalidInput`` (unknown ``parent_id``)."""
        require_role(principal, *CATEGORY_ADMINS)
        name = _clean(data.name)
        now = self.context.clock.now()
        async with transaction(self.context.sessions) as session:
            await _check_name_free(session, name)
            if data.parent_id is not None:
                await _parent(session, data.parent_id)
            row = KbCategory(
                name=name,
                parent_id=data.parent_id,
                position=await _next_position(session, data.parent_id),
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            await session.flush()
            return await _read(session, row)

    async def update(self, principal: Principal, category_id: int, data: CategoryUpdate) -> CategoryRead:
        """Rename and/or move the category under another parent (or to the top level: ``parent_id`` null).
        A rename renames the category on its articles, each getting a new version. Raises ``NotFound``,
        ``PermissionDenied``, ``Conflict`` (name taken), ``InvalidInput`` (unknown parent, or a parent that
        is the category itself or one of its subcategories)."""
        require_role(principal, *CATEGORY_ADMINS)
        now = self.context.clock.now()
        renamed = False
        async with transaction(self.context.sessions) as session:
            row = await _get(session, category_id)
            if data.parent_id is not msgspec.UNSET and data.parent_id != row.parent_id:
                if data.parent_id is not None:
                    await _check_not_below_itself(session, row, data.parent_id)
                row.parent_id = data.parent_id
                row.position = await _next_position(session, data.parent_id)
                row.updated_at = now
            if data.name is not msgspec.UNSET and _clean(data.name) != row.name:
                name = _clean(data.name)
                await _check_name_free(session, name, but=row.id)
                renamed = await _rename_on_articles(session, principal, row.name, name, now)
                row.name = name
                row.updated_at = now
            await session.flush()
            result = await _read(session, row)
        if renamed:
            mark_index_stale(self.context)
        return result

    async def move(self, principal: Principal, category_id: int, direction: Direction) -> CategoryRead:
        """Swap the category with its previous (``up``) or next (``down``) sibling; at either end nothing
        changes. Raises ``NotFound``, ``PermissionDenied``."""
        require_role(principal, *CATEGORY_ADMINS)
        async with transaction(self.context.sessions) as session:
            row = await _get(session, category_id)
            siblings = await _siblings(session, row.parent_id)
            index = next(i for i, s in enumerate(siblings) if s.id == row.id)
            other = index - 1 if direction == "up" else index + 1
            if 0 <= other < len(siblings):
                siblings[index], siblings[other] = siblings[other], siblings[index]
            for position, sibling in enumerate(siblings):
                sibling.position = position
            await session.flush()
            return await _read(session, row)

    async def delete(self, principal: Principal, category_id: int) -> None:
        """Delete an unused category. Raises ``NotFound``, ``PermissionDenied``, ``CategoryInUse`` (articles
        name it), ``Conflict`` ``category_has_children`` (it has subcategories)."""
        require_role(principal, *CATEGORY_ADMINS)
        async with transaction(self.context.sessions) as session:
            row = await _get(session, category_id)
            used = int(
                await session.scalar(
                    select(func.count()).select_from(KbArticle).where(KbArticle.category == row.name)
                )
                or 0
            )
            if used:
                raise CategoryInUse(row.name, used)
            children = await session.scalar(
                select(func.count()).select_from(KbCategory).where(KbCategory.parent_id == row.id)
            )
            if children:
                raise Conflict(
                    f"{row.name!r} has {children} subcategories; move or delete them first",
                    code="category_has_children",
                )
            await session.delete(row)


def _tree(rows: list[KbCategory], counts: dict[str, int]) -> Iterable[CategoryRead]:
    children: dict[int | None, list[KbCategory]] = defaultdict(list)
    known = {row.id for row in rows}
    for row in rows:
        # A parent outside the list cannot happen (foreign key); the guard keeps the walk total anyway.
        children[row.parent_id if row.parent_id in known else None].append(row)

    def walk(parent: int | None, depth: int) -> Iterable[CategoryRead]:
        for row in sorted(children[parent], key=lambda r: (r.position, r.name.lower(), r.id)):
            yield _as_read(row, depth, counts.get(row.name, 0))
            yield from walk(row.id, depth + 1)

    return walk(None, 0)


def _as_read(row: KbCategory, depth: int, article_count: int) -> CategoryRead:
    return CategoryRead(
        id=row.id,
        name=row.name,
        parent_id=row.parent_id,
        position=row.position,
        depth=depth,
        article_count=article_count,
    )


async def _read(session: AsyncSession, row: KbCategory) -> CategoryRead:
    depth, parent = 0, row.parent_id
    while parent is not None:
        depth += 1
        parent = await session.scalar(select(KbCategory.parent_id).where(KbCategory.id == parent))
    count = await session.scalar(
        select(func.count()).select_from(KbArticle).where(KbArticle.category == row.name)
    )
    return _as_read(row, depth, int(count or 0))


def _clean(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidInput("name: must not be blank", field="name")
    return cleaned


async def _get(session: AsyncSession, category_id: int) -> KbCategory:
    row = await session.get(KbCategory, category_id)
    if row is None:
        raise NotFound(f"category {category_id} not found")
    return row


async def _parent(session: AsyncSession, parent_id: int) -> KbCategory:
    parent = await session.get(KbCategory, parent_id)
    if parent is None:
        raise InvalidInput(f"parent_id: category {parent_id} does not exist", field="parent_id")
    return parent


async def _check_name_free(session: AsyncSession, name: str, *, but: int | None = None) -> None:
    query = select(KbCategory.id).where(func.lower(KbCategory.name) == name.lower())
    if but is not None:
        query = query.where(KbCategory.id != but)
    if await session.scalar(query) is not None:
        raise Conflict(f"name: a category named {name!r} exists already", field="name", code="name_taken")


async def _check_not_below_itself(session: AsyncSession, row: KbCategory, parent_id: int) -> None:
    ancestor: KbCategory | None = await _parent(session, parent_id)
    while ancestor is not None:
        if ancestor.id == row.id:
            raise InvalidInput(
                "parent_id: a category cannot be nested under itself or one of its subcategories",
                field="parent_id",
                code="category_cycle",
            )
        ancestor = await session.get(KbCategory, ancestor.parent_id) if ancestor.parent_id else None


async def _siblings(session: AsyncSession, parent_id: int | None) -> list[KbCategory]:
    where = KbCategory.parent_id.is_(None) if parent_id is None else KbCategory.parent_id == parent_id
    return list(
        await session.scalars(
            select(KbCategory)
            .where(where)
            .order_by(KbCategory.position, func.lower(KbCategory.name), KbCategory.id)
        )
    )


async def _next_position(session: AsyncSession, parent_id: int | None) -> int:
    where = KbCategory.parent_id.is_(None) if parent_id is None else KbCategory.parent_id == parent_id
    last = await session.scalar(select(func.max(KbCategory.position)).where(where))
    return 0 if last is None else int(last) + 1


async def _rename_on_articles(
    session: AsyncSession, principal: Principal, old: str, new: str, now: datetime
) -> bool:
    """Give every article in ``old`` the category ``new`` as a new version (an editor holding the previous
    version gets the usual ``stale_version`` conflict instead of writing the old name back)."""
    articles = list(await session.scalars(select(KbArticle).where(KbArticle.category == old)))
    if not articles:
        return False
    changed_version = await bump_state(session)
    for article in articles:
        article.category = new
        article.version += 1
        article.updated_at = now
        article.changed_version = changed_version
        record_version(session, article, principal, now)
    return True
