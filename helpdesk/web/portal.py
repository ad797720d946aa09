"""The customer portal: a new-request form, the tracking page, sign-in by e-mail link, "my requests"."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from helpdesk.accounts.dependencies import PrincipalDep, client_key
from helpdesk.accounts.service import AccountService
from helpdesk.core.errors import DomainError
from helpdesk.core.params import PathId, PathToken
from helpdesk.runtime import RuntimeDep
from helpdesk.tickets.api import file_response
from helpdesk.tickets.attachments import AttachmentService
from helpdesk.tickets.queries import TicketQueries
from helpdesk.tickets.rules import Channel
from helpdesk.tickets.schemas import TicketCreate, TicketFilters
from helpdesk.tickets.service import TicketService
from helpdesk.web.auth import signed_in_cookies
from helpdesk.web.csrf import FORM_FIELD, check_form_token
from helpdesk.web.i18n import N_
from helpdesk.web.render import gettext_for, page
from helpdesk.web.tracking import tracking_page

Req = Request[Any, Any, Any]


def _page(
    request: Req, principal: PrincipalDep, template: str, status_code: int = 200, **context: Any
) -> Template:
    return page(request, principal, template, status_code=status_code, **context)


class PortalController(Controller):
    path = "/"
    include_in_schema = False

    @get("/")
    async def home(self, request: Req, principal: PrincipalDep) -> Template:
        return _page(request, principal, "portal/new_request.html", form={}, error=None)

    @post("/portal/requests")
    async def submit_request(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep
    ) -> Template | Redirect:
        form = await request.form()
        fields = {k: str(form.get(k, "")).strip() for k in ("name", "email", "subject", "description")}
        try:
            check_form_token(request, principal, str(form.get(FORM_FIELD, "")) or None)
            payload: dict[str, Any] = {"subject": fields["subject"], "description": fields["description"]}
            if not principal.is_customer:
                payload.update(customer_email=fields["email"], customer_name=fields["name"])
            data = _convert(payload)
            uploads = [f for f in form.getall("attachments", []) if isinstance(f, UploadFile) and f.filename]
            files = [(f.filename, f.content_type, await f.read()) for f in uploads]
            # The ticket and its files commit together: a file over a limit leaves nothing half-written.
            ticket, _ = await TicketService(runtime).open(
                principal,
                data,
                channel=Channel.WEB,
                client=client_key(request),
                within=AttachmentService(runtime).with_message(files),
            )
        except DomainError as exc:
            return _page(
                request,
                principal,
                "portal/new_request.html",
                status_code=exc.status_code,
                form=fields,
                error=exc.detail,
            )
        return Redirect(f"/track/{ticket.tracking_token}?created=1")

    @get("/track/{token:str}")
    async def tracking_page(
        self,
        request: Req,
        principal: PrincipalDep,
        runtime: RuntimeDep,
        token: PathToken,
        created: FromQuery[bool] = False,
        sent: FromQuery[bool] = False,
    ) -> Template:
        return await tracking_page(request, principal, runtime, token, created=created, sent=sent)

    @get("/track/{token:str}/attachments/{attachment_id:int}")
    async def tracked_attachment(
        self,
        token: PathToken,
        attachment_id: PathId,
        runtime: RuntimeDep,
    ) -> Response[bytes]:
        attachment, data = await AttachmentService(runtime).download_tracked(token, attachment_id)
        return file_response(attachment, data)

    @get("/portal/signin")
    async def signin_form(self, request: Req, principal: PrincipalDep) -> Template:
        return _page(request, principal, "portal/signin.html", sent=False, error=None)

    @post("/portal/signin")
    async def signin_request(self, request: Req, principal: PrincipalDep, runtime: RuntimeDep) -> Template:
        form = await request.form()
        email = str(form.get("email", "")).strip()
        try:
            check_form_token(request, principal, str(form.get(FORM_FIELD, "")) or None)
            from helpdesk.accounts.schemas import MagicLinkRequest

            data = msgspec.convert({"email": email}, MagicLinkRequest)
            await AccountService(runtime).request_magic_link(data.email, client=client_key(request))
        except msgspec.ValidationError:
            return _page(
                request,
                principal,
                "portal/signin.html",
                status_code=400,
                sent=False,
                error=gettext_for(request, principal)(N_("Please enter a valid e-mail address.")),
            )
        except DomainError as exc:
            return _page(
                request,
                principal,
                "portal/signin.html",
                status_code=exc.status_code,
                sent=False,
                error=exc.detail,
            )
        return _page(request, principal, "portal/signin.html", sent=True, error=None)

    @get("/portal/magic/{token:str}")
    async def redeem_link(
        self,
        request: Req,
        principal: PrincipalDep,
        runtime: RuntimeDep,
        token: PathToken,
    ) -> Template | Redirect:
        try:
            issued = await AccountService(runtime).redeem_magic_link(token)
        except DomainError as exc:
            return _page(
                request,
                principal,
                "portal/signin.html",
                status_code=exc.status_code,
                sent=False,
                error=exc.detail,
            )
        return Redirect("/portal/requests", cookies=signed_in_cookies(issued, runtime))

    @get("/portal/requests")
    async def my_requests(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep
    ) -> Template | Redirect:
        if not principal.is_customer:
            return Redirect("/portal/signin")
        page = await TicketQueries(runtime).list_tickets(principal, TicketFilters(), limit=100)
        return _page(request, principal, "portal/my_requests.html", page=page)


def _convert(payload: dict[str, Any]) -> TicketCreate:
    """Form fields into the API schema, so the portal and the API accept exactly the same input."""
    try:
        return msgspec.convert(payload, TicketCreate)
    except msgspec.ValidationError as exc:
        from helpdesk.core.errors import InvalidInput

        message = str(exc)
        field = message.rsplit("$.", 1)[-1].rstrip("`") if "$." in message else None
        labels = {
            "customer_email": "E-mail",
            "customer_name": "Name",
            "subject": "Subject",
            "description": "Description",
        }
        label = labels.get(field or "", "Form")
        raise InvalidInput(f"{label}: {message.split(' - at ', maxsplit=1)[0]}", field=field) from exc
