"""Rows to API shapes (no queries, no rules)."""

from __future__ import annotations

from collections.abc import Sequence

from knowledge_base.models import KbArticle, KbArticleVersion
from knowledge_base.schemas import ArticleRead, ArticleSummary, Counts, Translation, VersionRead


def counts_of(article: KbArticle) -> Counts:
    return Counts(
        views=article.view_count,
        helpful=article.helpful_count,
        not_helpful=article.not_helpful_count,
        deflections=article.deflection_count,
        links=article.link_count,
    )


def article_summary(article: KbArticle) -> ArticleSummary:
    return ArticleSummary(
        id=article.id,
        external_id=article.external_id,
        title=article.title,
        summary=article.summary,
        language=article.language,
        category=article.category,
        tags=list(article.tags),
        status=article.status,
        visibility=article.visibility,
        version=article.version,
        updated_at=article.updated_at,
    )


def article_read(article: KbArticle, translations: Sequence[KbArticle]) -> ArticleRead:
    summary = article_summary(article)
    return ArticleRead(
        **{field: getattr(summary, field) for field in summary.__struct_fields__},
        body=article.body_markdown,
        body_html=article.body_html,
        translation_group=article.translation_group,
        translations=[
            Translation(id=other.id, language=other.language, title=other.title, status=other.status)
            for other in translations
        ],
        counts=counts_of(article),
        created_at=article.created_at,
        published_at=article.published_at,
    )


def version_read(version: KbArticleVersion) -> VersionRead:
    return VersionRead(
        version=version.version,
        title=version.title,
        summary=version.summary,
        body=version.body_markdown,
        tags=list(version.tags),
        category=version.category,
        status=version.status,
        visibility=version.visibility,
        edited_by=version.edited_by,
        edited_by_id=version.edited_by_id,
        created_at=version.created_at,
    )
