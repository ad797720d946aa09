"""API shapes of articles, versions, search hits, suggestions and feedback."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from helpdesk.core.types import NO_NUL, Id

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=300, pattern=NO_NUL)]
Summary = Annotated[str, msgspec.Meta(max_length=2000, pattern=NO_NUL)]
Body = Annotated[str, msgspec.Meta(min_length=1, max_length=200_000, pattern=NO_NUL)]
ArticleTag = Annotated[str, msgspec.Meta(min_length=1, max_length=50, pattern=r"^[^\x00-\x1f]+$")]
Category = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=NO_NUL)]
# Checked by the service against the supported languages, so an unknown code is a 422 naming the field.
LanguageCode = Annotated[str, msgspec.Meta(min_length=1, max_length=8, examples=["en", "ru"])]
Status = Literal["draft", "published", "archived"]
Visibility = Literal["public", "internal"]


class ArticleCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    title: Title
    body: Body
    language: LanguageCode = "en"
    summary: Summary = ""
    tags: Annotated[list[ArticleTag], msgspec.Meta(max_length=30)] = msgspec.field(default_factory=list)
    category: Category | None = None
    status: Status = "draft"
    visibility: Visibility = "public"
    # Another article this one translates: both then list each other under ``translations``.
    translation_of: Id | None = None


class ArticleUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    title: Title | msgspec.UnsetType = msgspec.UNSET
    body: Body | msgspec.UnsetType = msgspec.UNSET
    language: LanguageCode | msgspec.UnsetType = msgspec.UNSET
    summary: Summary | msgspec.UnsetType = msgspec.UNSET
    tags: Annotated[list[ArticleTag], msgspec.Meta(max_length=30)] | msgspec.UnsetType = msgspec.UNSET
    category: Category | msgspec.UnsetType | None = msgspec.UNSET
    status: Status | msgspec.UnsetType = msgspec.UNSET
    visibility: Visibility | msgspec.UnsetType = msgspec.UNSET
    # The version you read; a different current version is a 409 ``stale_version`` (optional).
    version: Id | msgspec.UnsetType = msgspec.UNSET


class Translation(msgspec.Struct, kw_only=True):
    id: int
    language: str
    title: str
    status: str


class Counts(msgspec.Struct, kw_only=True):
    views: int
    helpful: int
    not_helpful: int
    deflections: int
    links: int


class ArticleSummary(msgspec.Struct, kw_only=True):
    id: int
    external_id: str | None
    title: str
    summary: str
    language: str
    category: str | None
    tags: list[str]
    status: str
    visibility: str
    version: int
    updated_at: datetime


class ArticleRead(ArticleSummary, kw_only=True):
    body: str
    # Sanitised HTML rendered from ``body`` (safe to insert into a page as is).
    body_html: str
    translation_group: str
    translations: list[Translation]
    counts: Counts
    created_at: datetime
    published_at: datetime | None


class ArticlePage(msgspec.Struct, kw_only=True):
    items: list[ArticleSummary]
    total: int


class VersionRead(msgspec.Struct, kw_only=True):
    version: int
    title: str
    summary: str
    body: str
    tags: list[str]
    category: str | None
    status: str
    visibility: str
    edited_by: str
    edited_by_id: int | None
    created_at: datetime


class VersionDiff(msgspec.Struct, kw_only=True):
    from_version: int
    to_version: int
    # A unified diff of "title, summary, tags, category, status, visibility, body" as text.
    diff: str


class SearchHit(msgspec.Struct, kw_only=True):
    article: ArticleSummary
    score: float


class SearchResult(msgspec.Struct, kw_only=True):
    items: list[SearchHit]
    # False while this process is still building its index at start-up (results may be incomplete).
    complete: bool


class Suggestion(msgspec.Struct, kw_only=True):
    id: int
    title: str
    summary: str
    language: str
    score: float
    # The article's page in the customer portal.
    url: str


class InsertPayload(msgspec.Struct, kw_only=True):
    # The article's portal address, to paste into a reply.
    link: str
    # The article as plain text (title, blank line, body without markup), to paste into a reply.
    text: str


class TicketSuggestion(msgspec.Struct, kw_only=True):
    article_id: int
    title: str
    summary: str
    language: str
    visibility: str
    score: float
    rank: int
    insert: InsertPayload


class FeedbackCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    helpful: bool


class LinkCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    ticket_id: Id


class FeedbackRead(msgspec.Struct, kw_only=True):
    article_id: int
    counts: Counts


class CategoryCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Category
    # Nest the new category under another one (optional).
    parent_id: Id | None = None


class CategoryUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    # A new name renames the category on its articles too.
    name: Category | msgspec.UnsetType = msgspec.UNSET
    # Another category to nest under, or null for the top level.
    parent_id: Id | msgspec.UnsetType | None = msgspec.UNSET


class CategoryRead(msgspec.Struct, kw_only=True):
    id: int
    name: str
    parent_id: int | None
    position: int
    # 0 for a top-level category, 1 for one nested under it, and so on.
    depth: int
    article_count: int


class UnlistedCategory(msgspec.Struct, kw_only=True):
    """A category some articles name that is not in the administered list (set through the API or an import)."""

    name: str
    article_count: int


class CategoryTree(msgspec.Struct, kw_only=True):
    # Parents before their children, siblings by position.
    items: list[CategoryRead]
    unlisted: list[UnlistedCategory]
