"""Canned responses: the management page (/agent/canned) and the list next to the reply composer. A refused
form shows the page again with each message next to its field, in the reader's language (``submit_form``).

In the composer each response is a "use" link that reloads the ticket page with the text in the message box
(no JavaScript needed); ``canned.js`` turns the link into an insert at the cursor.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from helpdesk.canned.schemas import CannedCreate
from helpdesk.canned.service import CannedService
from helpdesk.core.principal import Principal, PrincipalDep
from helpdesk.runtime import Runtime, RuntimeDep
from helpdesk.web import hooks
from helpdesk.web.forms import convert, explained_by, submit_form
from helpdesk.web.i18n import N_
from helpdesk.web.render import Req, checked_form, field, page, require_staff

FIELDS = ("title", "body", "language")
# The service's "canned response <id> not found": someone deleted it meanwhile, or it is another's.
explain = explained_by({("not_found", ""): N_("This canned response no longer exists.")})


async def canned_panel(runtime: Any, principal: Principal, ticket_id: int) -> dict[str, Any]:
    return {"responses": await CannedService(runtime).list_responses(principal)}


hooks.register_ticket_panel("canned", canned_panel)


def _payload(form: Any) -> tuple[dict[str, str], dict[str, Any]]:
    values = {name: field(form, name) for name in FIELDS}
    values["body"] = str(form.get("body", "") or "").strip()
    values["shared"] = "yes" if field(form, "shared") else ""
    return values, {**values, "language": values["language"].lower(), "shared": bool(values["shared"])}


class CannedPages(Controller):
    path = "/agent/canned"
    include_in_schema = False

    @get("/")
    async def list_page(self, request: Req, principal: PrincipalDep, runtime: RuntimeDep) -> Template:
        require_staff(principal)
        return await _page(request, principal, runtime)

    @post("/")
    async def create(self, request: Req, principal: PrincipalDep, runtime: RuntimeDep) -> Template | Redirect:
        require_staff(principal)
        values, payload = _payload(await checked_form(request, principal))

        async def create_response() -> Template | Redirect:
            await CannedService(runtime).create_response(principal, convert(payload, CannedCreate))
            return Redirect("/agent/canned?saved=1", status_code=303)

        async def show(errors: dict[str, str]) -> Template | Redirect:
            return await _page(request, principal, runtime, "new", values, errors)

        return await submit_form(create_response, show, explain=explain)

    @post("/{canned_id:int}")
    async def update(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep, canned_id: FromPath[int]
    ) -> Template | Redirect:
        require_staff(principal)
        values, payload = _payload(await checked_form(request, principal))

        async def update_response() -> Template | Redirect:
            data = convert(payload, CannedCreate)
            await CannedService(runtime).update_response(principal, canned_id, data)
            return Redirect("/agent/canned?saved=1", status_code=303)

        async def show(errors: dict[str, str]) -> Template | Redirect:
            return await _page(request, principal, runtime, f"c{canned_id}", values, errors)

        return await submit_form(update_response, show, explain=explain)

    @post("/{canned_id:int}/delete")
    async def delete(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep, canned_id: FromPath[int]
    ) -> Redirect:
        require_staff(principal)
        await checked_form(request, principal)
        await CannedService(runtime).delete_response(principal, canned_id)
        return Redirect("/agent/canned?deleted=1", status_code=303)


async def _page(
    request: Req,
    principal: Principal,
    runtime: Runtime,
    form_name: str = "",
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> Template:
    return page(
        request,
        principal,
        "agent/canned.html",
        status_code=422 if errors else 200,
        responses=await CannedService(runtime).list_responses(principal),
        form_name=form_name,
        values=values or {},
        errors=errors or {},
        saved=request.query_params.get("saved") or request.query_params.get("deleted"),
        curator=principal.role in ("admin", "manager"),
    )
