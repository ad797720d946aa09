"""The knowledge base in the pages people use: article pages in the portal (with "was this helpful?" and
"this solved my problem"), the portal's suggestions while a customer types, and suggested articles on the
agent's ticket page with one-click insert into the reply.

Inserting works without JavaScript: the suggestion's buttons submit the reply form (``form="composer"``) to
an endpoint that records the link and shows the page again with the article added to the draft.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from helpdesk.core.principal import Principal, PrincipalDep
from helpdesk.runtime import RuntimeDep
from helpdesk.web import hooks
from helpdesk.web.agent_ticket import _ticket_page
from helpdesk.web.render import Req, checked_form, field, page, require_staff
from knowledge_base.service import ArticleService
from knowledge_base.suggestions import SuggestionService


async def suggestions_panel(runtime: Any, principal: Principal, ticket_id: int) -> dict[str, Any]:
    # The page has just read the ticket: no need to check that it exists.
    return {
        "articles": await SuggestionService(runtime).ticket_suggestions(
            principal, ticket_id, ticket_known=True
        )
    }


hooks.register_ticket_panel("suggestions", suggestions_panel)


class KnowledgePages(Controller):
    path = "/"
    include_in_schema = False

    @get("/portal/kb/{article_id:int}")
    async def article(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep, article_id: FromPath[int]
    ) -> Template:
        """A published article as its reader may see it (customers: public ones only; otherwise 404)."""
        article = await ArticleService(runtime).get(principal, article_id)
        return page(request, principal, "portal/article.html", article=article, thanked=None)

    @post("/portal/kb/{article_id:int}/feedback")
    async def feedback(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep, article_id: FromPath[int]
    ) -> Template:
        form = await checked_form(request, principal)
        service = ArticleService(runtime)
        answer = field(form, "answer")
        if answer == "solved":
            article = await service.deflect(principal, article_id)
        else:
            article = await service.feedback(principal, article_id, helpful=answer == "yes")
        return page(request, principal, "portal/article.html", article=article, thanked=answer)

    @post("/agent/tickets/{ticket_id:int}/articles/{article_id:int}/insert")
    async def insert(
        self,
        request: Req,
        principal: PrincipalDep,
        runtime: RuntimeDep,
        ticket_id: FromPath[int],
        article_id: FromPath[int],
    ) -> Template | Redirect:
        """Add a suggested article (its link, or its text) to the reply being written, and count the link
        (articles linked into replies rank higher for similar tickets)."""
        require_staff(principal)
        form = await checked_form(request, principal)
        chosen = next(
            (
                s
                for s in await SuggestionService(runtime).ticket_suggestions(principal, ticket_id)
                if s.article_id == article_id
            ),
            None,
        )
        draft = str(form.get("body", "") or "").rstrip()
        if chosen is None:
            return Redirect(f"/agent/tickets/{ticket_id}")
        addition = chosen.insert.text if field(form, "what") == "text" else chosen.insert.link
        await ArticleService(runtime).link(principal, article_id, ticket_id)
        return await _ticket_page(
            request, principal, runtime, ticket_id, draft=f"{draft}\n\n{addition}".strip()
        )
