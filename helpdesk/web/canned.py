"""Canned responses: the management page (/agent/canned) and the list next to the reply composer. A refused
form shows the page again with each message next to its field, in the reader's language (``submit_form``).

In the composer each response is a "use" link that reloads the ticket page with the text in the message box
(no JavaScript needed); ``canned.js`` turns the link into an insert at the cursor.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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
from helpdesk.web.render import FormState, Req, checked_form, field, form_page, require_staff

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

        async def create_response(data: CannedCreate) -> None:
            await CannedService(runtime).create_response(principal, data)

        return await _save(request, principal, runtime, "new", create_response)

    @post("/{canned_id:int}")
    async def update(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep, canned_id: FromPath[int]
    ) -> Template | Redirect:
        require_staff(principal)

        async def update_response(data: CannedCreate) -> None:
            await CannedService(runtime).update_response(principal, canned_id, data)

        return await _save(request, principal, runtime, f"c{canned_id}", update_response)

    @post("/{canned_id:int}/delete")
    async def delete(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep, canned_id: FromPath[int]
    ) -> Redirect:
        require_staff(principal)
        await checked_form(request, principal)
        await CannedService(runtime).delete_response(principal, canned_id)
        return Redirect("/agent/canned?deleted=1", status_code=303)


async def _save(
    request: Req,
    principal: Principal,
    runtime: Runtime,
    form_name: str,
    save: Callable[[CannedCreate], Awaitable[None]],
) -> Template | Redirect:
    """The posted form (``form_name`` on the page) converted and saved by ``save``, then back to the list; or
    the page again with the form's messages (``submit_form``)."""
    values, payload = _payload(await checked_form(request, principal))

    async def convert_and_save() -> Template | Redirect:
        await save(convert(payload, CannedCreate))
        return Redirect("/agent/canned?saved=1", status_code=303)

    async def show(errors: dict[str, str]) -> Template | Redirect:
        return await _page(request, principal, runtime, FormState(form_name, values, errors))

    return await submit_form(convert_and_save, show, explain=explain)


async def _page(
    request: Req, principal: Principal, runtime: Runtime, state: FormState | None = None
) -> Template:
    return form_page(
        request,
        principal,
        "agent/canned.html",
        state,
        responses=await CannedService(runtime).list_responses(principal),
        # A deletion is confirmed like a save.
        saved=request.query_params.get("saved") or request.query_params.get("deleted"),
        curator=principal.role in ("admin", "manager"),
    )
