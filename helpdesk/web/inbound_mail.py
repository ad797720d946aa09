"""The desk's review (agents, managers, admins) of inbound mail that became no ticket: flagged or failed
mail, newest first, the raw message to download, "process again" and "dismiss" (both audited); and the count
of such mail that the console navigation shows on every console page."""

from __future__ import annotations

from urllib.parse import urlencode

from litestar import Controller, Response, get, post
from litestar.response import Redirect, Template

from helpdesk.accounts.dependencies import SESSION_COOKIE
from helpdesk.channels.email.flagged import REVIEW_ROLES, FlaggedMailService
from helpdesk.core.errors import Conflict
from helpdesk.core.params import PathId
from helpdesk.core.principal import PrincipalDep
from helpdesk.runtime import RuntimeDep
from helpdesk.web.render import Req, checked_form, optional_int, page, require_staff

PATH = "/agent/inbound-mail"
PER_PAGE = 25
# Pages whose navigation shows the count (the console); the portal and tracking pages never ask.
CONSOLE_PREFIXES = ("/agent", "/manager", "/admin")
COUNT_STATE = "flagged_mail_count"


async def count_flagged_mail(request: Req) -> None:
    """``before_request`` of the pages: put the number of mails waiting for review where the navigation
    reads it (``request.state``), for signed-in visits to console pages only. The count is reused for a
    few seconds, so a page costs no query for it most of the time."""
    if request.method != "GET" or SESSION_COOKIE not in request.cookies:
        return
    if not request.url.path.startswith(CONSOLE_PREFIXES):
        return
    request.state[COUNT_STATE] = await FlaggedMailService(request.app.state.runtime).recent_count()


class InboundMailPages(Controller):
    path = PATH
    include_in_schema = False

    @get("/")
    async def review(self, request: Req, principal: PrincipalDep, runtime: RuntimeDep) -> Template:
        require_staff(principal, REVIEW_ROLES)
        number = optional_int(request.query_params.get("page")) or 1
        listing = await FlaggedMailService(runtime).list_flagged(
            principal, page=max(1, number), per_page=PER_PAGE
        )
        return page(
            request,
            principal,
            "agent/inbound_mail.html",
            listing=listing,
            done=request.query_params.get("done"),
            prev_page=listing.page - 1 if listing.page > 1 else None,
            next_page=listing.page + 1 if listing.has_next else None,
        )

    @get("/{inbound_id:int}/raw")
    async def raw(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep, inbound_id: PathId
    ) -> Response[bytes]:
        require_staff(principal, REVIEW_ROLES)
        raw = await FlaggedMailService(runtime).raw_message(principal, inbound_id)
        return Response(
            raw,
            media_type="message/rfc822",
            headers={"Content-Disposition": f'attachment; filename="inbound-{inbound_id}.eml"'},
        )

    @post("/{inbound_id:int}/process-again")
    async def process_again(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep, inbound_id: PathId
    ) -> Redirect:
        return await self._act(request, principal, runtime, inbound_id, "processing")

    @post("/{inbound_id:int}/dismiss")
    async def dismiss(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep, inbound_id: PathId
    ) -> Redirect:
        return await self._act(request, principal, runtime, inbound_id, "dismissed")

    async def _act(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep, inbound_id: int, action: str
    ) -> Redirect:
        require_staff(principal, REVIEW_ROLES)
        form = await checked_form(request, principal)
        service = FlaggedMailService(runtime)
        try:
            if action == "processing":
                await service.process_again(principal, inbound_id)
            else:
                await service.dismiss(principal, inbound_id)
        except Conflict:  # someone dealt with it meanwhile: say so rather than show an error page
            action = "gone"
        number = optional_int(str(form.get("page") or "")) or 1
        query = urlencode({"done": action, **({"page": number} if number > 1 else {})})
        return Redirect(f"{PATH}?{query}", status_code=303)
