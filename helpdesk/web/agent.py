"""The agents' console: queues sorted by SLA urgency, filters, saved views, bulk assign/close."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from helpdesk.accounts.staff import StaffService
from helpdesk.core.errors import DomainError
from helpdesk.core.principal import PrincipalDep
from helpdesk.runtime import RuntimeDep
from helpdesk.tickets.board import BoardFilters, QueueView, list_board
from helpdesk.tickets.rules import Priority, TicketStatus
from helpdesk.tickets.schemas import TicketUpdate
from helpdesk.tickets.service import TicketService
from helpdesk.web.render import Req, checked_form, field, optional_int, page, require_staff
from helpdesk.web.saved_views import SavedViewService, clean_query

PER_PAGE = 25


def parse_filters(params: Any, principal_has_groups: bool = True) -> BoardFilters:
    """Queue filters from a query string, leniently: an unknown value is ignored rather than an error page."""
    view = params.get("view") or QueueView.ALL.value
    return BoardFilters(
        view=QueueView(view) if view in set(QueueView) else QueueView.ALL,
        status=[TicketStatus(s) for s in params.getall("status", []) if s in set(TicketStatus)],
        priority=[Priority(p) for p in params.getall("priority", []) if p in set(Priority)],
        queue_id=optional_int(params.get("queue_id")),
        customer_id=optional_int(params.get("customer_id")),
        organisation_id=optional_int(params.get("organisation_id")),
        tag=(params.get("tag") or "").strip()[:50] or None,
        text=(params.get("q") or "").strip()[:200] or None,
    )


def query_string(params: Any, **changes: Any) -> str:
    pairs = [
        (k, v) for k, v in params.multi_items() if k not in changes and k not in ("partial", "done", "stale")
    ]
    pairs += [(k, v) for k, v in changes.items() if v not in (None, "")]
    return urlencode(pairs)


class AgentConsole(Controller):
    path = "/agent"
    include_in_schema = False

    @get("/")
    async def queue(self, request: Req, principal: PrincipalDep, runtime: RuntimeDep) -> Template:
        require_staff(principal)
        params = request.query_params
        filters = parse_filters(params)
        number = optional_int(params.get("page")) or 1
        board = await list_board(runtime, principal, filters, page=number, per_page=PER_PAGE)
        partial = params.get("partial") == "rows"
        context: dict[str, Any] = {
            "board": board,
            "filters": filters,
            "now": runtime.clock.now(),
            "prev_qs": query_string(params, page=number - 1) if number > 1 else None,
            "next_qs": query_string(params, page=number + 1) if board.has_next else None,
            "current_qs": clean_query(str(request.url.query or "")),
        }
        if partial:
            return page(request, principal, "agent/_rows.html", **context)
        staff = StaffService(runtime)
        return page(
            request,
            principal,
            "agent/queue.html",
            groups=await staff.list_groups(),
            users=[
                u for u in await staff.list_users() if u.is_active and u.role in ("agent", "manager", "admin")
            ],
            views=await SavedViewService(runtime).list_views(principal),
            statuses=list(TicketStatus),
            priorities=list(Priority),
            queue_views=list(QueueView),
            done=optional_int(params.get("done")),
            stale=[s for s in (params.get("stale") or "").split(",") if s],
            **context,
        )

    @post("/bulk")
    async def bulk(self, request: Req, principal: PrincipalDep, runtime: RuntimeDep) -> Redirect:
        """Assign or close the ticked tickets; a ticket someone changed meanwhile is left alone and named."""
        require_staff(principal)
        form = await checked_form(request, principal)
        action = field(form, "action")
        assignee = optional_int(field(form, "assignee_id"))
        service = TicketService(runtime)
        done, stale = 0, []
        for item in form.getall("ticket", []):
            ticket_id, _, version = str(item).partition(":")
            if not (ticket_id.isdigit() and version.isdigit()):
                continue
            if action == "close":
                update = TicketUpdate(version=int(version), status=TicketStatus.CLOSED)
            elif action == "assign_me":
                update = TicketUpdate(version=int(version), assignee_id=principal.user_id)
            elif action == "assign":
                update = TicketUpdate(version=int(version), assignee_id=assignee)
            else:
                break
            try:
                await service.update_ticket(principal, int(ticket_id), update)
                done += 1
            except DomainError:  # stale version (409) or a transition not allowed from its status
                stale.append(f"HD-{ticket_id}")
        back = clean_query(field(form, "back"))
        extra = urlencode({"done": done, **({"stale": ",".join(stale)} if stale else {})})
        return Redirect(f"/agent?{back}&{extra}" if back else f"/agent?{extra}", status_code=303)

    @post("/views")
    async def save_view(self, request: Req, principal: PrincipalDep, runtime: RuntimeDep) -> Redirect:
        require_staff(principal)
        form = await checked_form(request, principal)
        view = await SavedViewService(runtime).save_view(principal, field(form, "name"), field(form, "query"))
        return Redirect(f"/agent?{view.query}", status_code=303)

    @post("/views/{view_id:int}/delete")
    async def delete_view(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep, view_id: FromPath[int]
    ) -> Redirect:
        require_staff(principal)
        await checked_form(request, principal)
        await SavedViewService(runtime).delete_view(principal, view_id)
        return Redirect("/agent", status_code=303)
