"""Knowledge base under /api/v1/kb: articles (staff write, everyone reads what they may), search, the
portal's type-ahead, feedback and deflection, and the suggestions stored for a ticket."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import FromQuery, JSONBody, QueryParameter

from helpdesk.core.context import ContextDep
from helpdesk.core.params import Offset, PathId, search_text
from helpdesk.core.principal import PrincipalDep
from knowledge_base.schemas import (
    ArticleCreate,
    ArticlePage,
    ArticleRead,
    ArticleUpdate,
    FeedbackCreate,
    LinkCreate,
    SearchResult,
    Status,
    Suggestion,
    TicketSuggestion,
    VersionDiff,
    VersionRead,
)
from knowledge_base.service import ArticleService
from knowledge_base.suggestions import SuggestionService

# Type-ahead calls per client address and minute (the portal debounces keystrokes).
SUGGEST_RATE_PER_MINUTE = 120
# A query string longer than this is refused with a 400 naming ``q``; the ranker reads the first 500.
MAX_QUERY = 2000
Query = Annotated[str, search_text(MAX_QUERY, "What the reader typed")]
Language = Annotated[str | None, search_text(8, "Only articles in this language (en, ru)")]


def _client(request: Request[Any, Any, Any]) -> str:
    # The hop our load balancer appended to X-Forwarded-For (earlier entries may be forged), as the
    # other public endpoints count it.
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded:
        return forwarded.split(",")[-1].strip()
    return request.client.host if request.client else "unknown"


class ArticleController(Controller):
    path = "/kb/articles"
    tags = ["knowledge base"]

    @get("/", summary="Articles, newest first (readers other than staff: published public ones)")
    async def list_articles(
        self,
        principal: PrincipalDep,
        runtime: ContextDep,
        status: FromQuery[Status | None] = None,
        language: Language = None,
        category: Annotated[str | None, search_text(100)] = None,
        tag: Annotated[str | None, search_text(50)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        offset: Offset = 0,
    ) -> ArticlePage:
        return await ArticleService(runtime).list_articles(
            principal,
            status=status,
            language=language,
            category=category,
            tag=tag,
            limit=limit,
            offset=offset,
        )

    @post("/", summary="Create an article (staff)")
    async def create_article(
        self, data: JSONBody[ArticleCreate], principal: PrincipalDep, runtime: ContextDep
    ) -> ArticleRead:
        """Markdown `body` (raw HTML is shown as text; `body_html` is sanitised). `translation_of` links
        the new article to another as its translation (one article per language in a group)."""
        return await ArticleService(runtime).create(principal, data)

    @get("/{article_id:int}", summary="An article (counts a view)")
    async def get_article(
        self, article_id: PathId, principal: PrincipalDep, runtime: ContextDep
    ) -> ArticleRead:
        return await ArticleService(runtime).get(principal, article_id)

    @patch("/{article_id:int}", summary="Edit an article (staff); the previous text is kept as a version")
    async def update_article(
        self, article_id: PathId, data: JSONBody[ArticleUpdate], principal: PrincipalDep, runtime: ContextDep
    ) -> ArticleRead:
        """Send `version` (the one you read) to get a 409 `stale_version` instead of overwriting an edit."""
        return await ArticleService(runtime).update(principal, article_id, data)

    @delete("/{article_id:int}", summary="Delete an article with its versions (staff)")
    async def delete_article(self, article_id: PathId, principal: PrincipalDep, runtime: ContextDep) -> None:
        await ArticleService(runtime).delete(principal, article_id)

    @get("/{article_id:int}/versions", summary="Every version of an article, newest first (staff)")
    async def list_versions(
        self, article_id: PathId, principal: PrincipalDep, runtime: ContextDep
    ) -> list[VersionRead]:
        return await ArticleService(runtime).list_versions(principal, article_id)

    @get("/{article_id:int}/diff", summary="Unified diff between two versions (staff)")
    async def diff(
        self,
        article_id: PathId,
        principal: PrincipalDep,
        runtime: ContextDep,
        from_version: Annotated[int, QueryParameter(name="from", ge=1, le=1_000_000)],
        to_version: Annotated[int, QueryParameter(name="to", ge=1, le=1_000_000)],
    ) -> VersionDiff:
        return await ArticleService(runtime).diff(principal, article_id, from_version, to_version)

    @post("/{article_id:int}/feedback", summary='"Was this helpful?" (anyone who can read the article)')
    async def feedback(
        self, article_id: PathId, data: JSONBody[FeedbackCreate], principal: PrincipalDep, runtime: ContextDep
    ) -> ArticleRead:
        return await ArticleService(runtime).feedback(principal, article_id, helpful=data.helpful)

    @post("/{article_id:int}/deflect", summary='"This solved my problem": counted, no ticket is opened')
    async def deflect(self, article_id: PathId, principal: PrincipalDep, runtime: ContextDep) -> ArticleRead:
        return await ArticleService(runtime).deflect(principal, article_id)

    @post("/{article_id:int}/linked", summary="An agent linked the article into a reply on a ticket (staff)")
    async def linked(
        self, article_id: PathId, data: JSONBody[LinkCreate], principal: PrincipalDep, runtime: ContextDep
    ) -> dict[str, bool]:
        """Counted once per ticket; links feed the ranking of similar questions."""
        return {"counted": await ArticleService(runtime).link(principal, article_id, data.ticket_id)}


class KnowledgeSearchController(Controller):
    path = "/kb"
    tags = ["knowledge base"]

    @get("/search", summary="Search published articles (customers and anonymous readers: public ones)")
    async def search(
        self,
        principal: PrincipalDep,
        runtime: ContextDep,
        q: Query = "",
        language: Language = None,
        limit: Annotated[int, QueryParameter(ge=1, le=50)] = 10,
    ) -> SearchResult:
        return await SuggestionService(runtime).search(principal, q, language=language, limit=limit)

    @get("/suggest", summary="Type-ahead suggestions for the portal (public articles; rate limited)")
    async def suggest(
        self,
        request: Request[Any, Any, Any],
        principal: PrincipalDep,
        runtime: ContextDep,
        q: Query = "",
        language: Language = None,
        limit: Annotated[int, QueryParameter(ge=1, le=10)] = 5,
    ) -> list[Suggestion]:
        """Empty or off-topic input gives an empty list (nothing rather than something wrong)."""
        if not principal.is_staff:
            await runtime.rate_limiter.hit(f"kb-suggest:{_client(request)}", SUGGEST_RATE_PER_MINUTE)
        return await SuggestionService(runtime).suggest(principal, q, language=language, limit=limit)

    @get("/tickets/{ticket_id:int}/suggestions", summary="Articles suggested for a ticket (staff)")
    async def ticket_suggestions(
        self, ticket_id: PathId, principal: PrincipalDep, runtime: ContextDep
    ) -> list[TicketSuggestion]:
        """Computed after the ticket is created; `insert` holds the link and the text to paste into a reply."""
        return await SuggestionService(runtime).ticket_suggestions(principal, ticket_id)


__all__ = ["ArticleController", "KnowledgeSearchController"]
