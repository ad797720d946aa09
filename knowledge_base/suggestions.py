"""Search and suggestions: the search page, the portal's type-ahead, and the stored suggestions of a ticket.

All answers come from the process's ``LiveIndex`` (published articles only). Customers and anonymous
readers search public articles only; staff search internal ones too. Below the ranker's confidence
threshold nothing is suggested rather than something wrong.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import delete, select

from helpdesk.core.context import AppContext
from helpdesk.core.db import transaction
from helpdesk.core.errors import NotFound
from helpdesk.core.principal import STAFF_ROLES, Principal, require_role
from helpdesk.core.queue import Retry
from knowledge_base.live_index import IndexedArticle, live_index
from knowledge_base.models import KbArticle, KbTicketSuggestion
from knowledge_base.rendering import plain_text
from knowledge_base.schemas import InsertPayload, SearchHit, SearchResult, Suggestion, TicketSuggestion
from knowledge_base.service import check_language
from knowledge_base.tickets import ticket_exists, ticket_text
from knowledge_base.views import article_summary

# Longer input is cut here: the first words of a question carry its topic, and the ranker's cost
# grows with the query's length.
MAX_QUERY_CHARS = 500
TICKET_SUGGESTIONS = 5
INDEX_WAIT_SECONDS = 60.0


def article_url(context: AppContext, article_id: int) -> str:
    """The article's page in the customer portal (what an agent pastes into a reply)."""
    return f"{context.settings.base_url}/portal/kb/{article_id}"


class SuggestionService:
    def __init__(self, context: AppContext) -> None:
        self.context = context

    async def _search(
        self,
        principal: Principal,
        query: str,
        language: str | None,
        limit: int,
        min_confidence: float | None = None,
    ) -> list[tuple[IndexedArticle, float]]:
        if language is not None:
            check_language(language)
        query = query[:MAX_QUERY_CHARS]
        if not query.strip():
            return []
        return await live_index(self.context).search(
            query,
            language=language,
            limit=limit,
            public_only=not principal.is_staff,
            min_confidence=min_confidence,
        )

    async def search(
        self, principal: Principal, query: str, *, language: str | None = None, limit: int = 10
    ) -> SearchResult:
        """Published articles for ``query`` as ``principal`` may see them, best first, with summaries."""
        found = await self._search(principal, query, language, limit)
        ids = [article.id for article, _ in found]
        async with self.context.sessions() as session:
            rows = {
                row.id: row for row in await session.scalars(select(KbArticle).where(KbArticle.id.in_(ids)))
            }
        items = [
            SearchHit(article=article_summary(rows[article.id]), score=score)
            for article, score in found
            if article.id in rows
        ]
        return SearchResult(items=items, complete=live_index(self.context).ready.is_set())

    async def suggest(
        self,
        principal: Principal,
        query: str,
        *,
        language: str | None = None,
        limit: int = 5,
        min_confidence: float | None = None,
    ) -> list[Suggestion]:
        """The portal's type-ahead: titles and summaries from memory, no database read per keystroke
        beyond the index's freshness check. ``min_confidence`` overrides the ranker's cut-off (the
        benchmark measures ranking with it off)."""
        return [
            Suggestion(
                id=article.id,
                title=article.title,
                summary=article.summary,
                language=article.language,
                score=score,
                url=article_url(self.context, article.id),
            )
            for article, score in await self._search(principal, query, language, limit, min_confidence)
        ]

    async def suggest_for_ticket(self, ticket_id: int) -> int:
        """Store the top suggestions for a ticket's subject and first message (replacing earlier ones,
        so running it twice stores the same rows). Returns how many were stored; waits for this
        process's index to be built and raises ``Retry`` if that takes too long."""
        index = live_index(self.context)
        try:
            await asyncio.wait_for(index.ready.wait(), timeout=INDEX_WAIT_SECONDS)
        except TimeoutError:
            raise Retry(defer=30) from None
        async with self.context.sessions() as session:
            text = await ticket_text(session, ticket_id)
        if text is None:
            return 0
        found = await index.search(text, limit=TICKET_SUGGESTIONS, public_only=False)
        if not found:
            # Nothing relevant (or an empty base): no write transaction unless old rows must go.
            async with self.context.sessions() as session:
                stored = await session.scalar(
                    select(KbTicketSuggestion.id).where(KbTicketSuggestion.ticket_id == ticket_id).limit(1)
                )
            if stored is None:
                return 0
        now = self.context.clock.now()
        async with transaction(self.context.sessions) as session:
            if not await ticket_exists(session, ticket_id):
                return 0
            await session.execute(delete(KbTicketSuggestion).where(KbTicketSuggestion.ticket_id == ticket_id))
            existing = set(
                await session.scalars(select(KbArticle.id).where(KbArticle.id.in_([a.id for a, _ in found])))
            )
            rows = [
                KbTicketSuggestion(
                    ticket_id=ticket_id, article_id=article.id, rank=rank, score=score, created_at=now
                )
                for rank, (article, score) in enumerate(found, start=1)
                if article.id in existing
            ]
            session.add_all(rows)
        return len(rows)

    async def ticket_suggestions(
        self, principal: Principal, ticket_id: int, *, ticket_known: bool = False
    ) -> list[TicketSuggestion]:
        """The stored suggestions of a ticket, best first, each with what to paste into a reply.
        Staff only. Raises ``NotFound`` (unless the caller has just read the ticket: ``ticket_known``),
        ``PermissionDenied``."""
        require_role(principal, *STAFF_ROLES)
        async with self.context.sessions() as session:
            if not ticket_known and not await ticket_exists(session, ticket_id):
                raise NotFound(f"ticket {ticket_id} not found")
            rows = (
                await session.execute(
                    select(KbTicketSuggestion, KbArticle)
                    .join(KbArticle, KbArticle.id == KbTicketSuggestion.article_id)
                    .where(KbTicketSuggestion.ticket_id == ticket_id, KbArticle.status == "published")
                    .order_by(KbTicketSuggestion.rank)
                )
            ).all()
        return [
            TicketSuggestion(
                article_id=article.id,
                title=article.title,
                summary=article.summary,
                language=article.language,
                visibility=article.visibility,
                score=suggestion.score,
                rank=suggestion.rank,
                insert=InsertPayload(
                    link=article_url(self.context, article.id),
                    text=f"{article.title}\n\n{plain_text(article.body_markdown)}",
                ),
            )
            for suggestion, article in rows
        ]

    async def refresh_boosts(self) -> int:
        """Reload the learned-from-use counts into this process's index; returns how many articles have one."""
        return await live_index(self.context).refresh_boosts()
