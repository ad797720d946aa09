"""The agent's ticket page (timeline, side panel, reply composer, field edits with a readable answer to a
stale version) and the phone-ticket form."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.response import Redirect, Template

from helpdesk.accounts.staff import StaffService
from helpdesk.canned.service import CannedService
from helpdesk.core.errors import Conflict, DomainError
from helpdesk.core.principal import Principal, PrincipalDep
from helpdesk.runtime import Runtime, RuntimeDep
from helpdesk.tickets.attachments import AttachmentService
from helpdesk.tickets.panel import side_panel
from helpdesk.tickets.queries import TicketQueries
from helpdesk.tickets.rules import Channel, Priority, TicketStatus
from helpdesk.tickets.schemas import MessageCreate, TicketCreate, TicketUpdate
from helpdesk.tickets.service import TicketService
from helpdesk.web import hooks
from helpdesk.web.forms import FormErrors, convert, errors_of
from helpdesk.web.i18n import N_
from helpdesk.web.render import (
    Req,
    checked_form,
    field,
    gettext_for,
    optional_int,
    page,
    require_staff,
)
from helpdesk.web.text import split_quoted

EDITABLE = ("status", "priority", "assignee_id", "queue_id", "tags")


def _wanted_changes(form: Any) -> dict[str, Any]:
    """The fields the agent actually changed: each form field against the value the page showed."""
    changes: dict[str, Any] = {}
    for name in EDITABLE:
        value, shown = field(form, name), field(form, f"shown_{name}")
        if value == shown:
            continue
        if name in ("assignee_id", "queue_id"):
            changes[name] = optional_int(value)
        elif name == "tags":
            changes[name] = [t.strip() for t in value.split(",") if t.strip()]
        else:
            changes[name] = value
    return changes


async def _ticket_page(
    request: Req,
    principal: Principal,
    runtime: Runtime,
    ticket_id: int,
    *,
    status_code: int = 200,
    **extra: Any,
) -> Template:
    detail = await TicketQueries(runtime).get_ticket(principal, ticket_id)
    panel = await side_panel(runtime, principal, ticket_id)
    staff = StaffService(runtime)
    by_message: dict[int | None, list[Any]] = {}
    for attachment in detail.attachments:
        by_message.setdefault(attachment.message_id, []).append(attachment)
    timeline = [(m, *split_quoted(m.body_text), by_message.get(m.id, [])) for m in detail.messages]
    return page(
        request,
        principal,
        "agent/ticket.html",
        status_code=status_code,
        t=detail,
        panel=panel,
        timeline=timeline,
        loose_files=by_message.get(None, []),
        groups=await staff.list_groups(),
        users=[
            u for u in await staff.list_users() if u.is_active and u.role in ("agent", "manager", "admin")
        ],
        statuses=list(TicketStatus),
        priorities=list(Priority),
        now=runtime.clock.now(),
        panels=await hooks.ticket_panels(runtime, principal, ticket_id),
        **{"conflict": None, "errors": {}, "draft": "", **extra},
    )


class AgentTicketPages(Controller):
    path = "/agent"
    include_in_schema = False

    @get("/tickets/{ticket_id:int}")
    async def ticket(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep, ticket_id: FromPath[int]
    ) -> Template:
        require_staff(principal)
        # ?canned=ID: the reply box starts with that canned response (the no-JavaScript "use" link).
        canned_id = optional_int(request.query_params.get("canned"))
        draft = (await CannedService(runtime).get_response(principal, canned_id)).body if canned_id else ""
        return await _ticket_page(request, principal, runtime, ticket_id, draft=draft)

    @post("/tickets/{ticket_id:int}/update")
    async def update(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep, ticket_id: FromPath[int]
    ) -> Template | Redirect:
        """Apply the changed fields; on a stale version show what changed and offer to reapply."""
        require_staff(principal)
        form = await checked_form(request, principal)
        changes = _wanted_changes(form)
        if not changes:
            return Redirect(f"/agent/tickets/{ticket_id}", status_code=303)
        try:
            data = convert({"version": optional_int(field(form, "version")) or 0, **changes}, TicketUpdate)
            await TicketService(runtime).update_ticket(principal, ticket_id, data)
        except Conflict as exc:
            if exc.code != "stale_version":
                raise
            loaded_at = _parse_instant(field(form, "loaded_at"))
            return await _ticket_page(
                request,
                principal,
                runtime,
                ticket_id,
                status_code=409,
                conflict={"changes": changes, "since": loaded_at},
            )
        except FormErrors as exc:
            return await _ticket_page(
                request, principal, runtime, ticket_id, status_code=422, errors=exc.errors
            )
        except DomainError as exc:
            return await _ticket_page(
                request, principal, runtime, ticket_id, status_code=exc.status_code, errors=errors_of(exc)
            )
        return Redirect(f"/agent/tickets/{ticket_id}?saved=1", status_code=303)

    @post("/tickets/{ticket_id:int}/reply")
    async def reply(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep, ticket_id: FromPath[int]
    ) -> Template | Redirect:
        """A public reply or an internal note, with an optional status change and files."""
        require_staff(principal)
        form = await checked_form(request, principal)
        body = str(form.get("body", "")).strip()
        payload: dict[str, Any] = {"body": body, "kind": field(form, "kind") or "public_reply"}
        if field(form, "status"):
            payload["status"] = field(form, "status")
        try:
            if not body:
                raise FormErrors({"body": gettext_for(request, principal)(N_("Write a message first."))})
            data = convert(payload, MessageCreate)
            _, message = await TicketService(runtime).add_message(principal, ticket_id, data)
            for upload in form.getall("attachments", []):
                if isinstance(upload, UploadFile) and upload.filename:
                    await AttachmentService(runtime).attach(
                        principal,
                        ticket_id,
                        filename=upload.filename,
                        content_type=upload.content_type,
                        data=await upload.read(),
                        message_id=message.id,
                    )
        except FormErrors as exc:
            return await _ticket_page(
                request, principal, runtime, ticket_id, status_code=422, errors=exc.errors, draft=body
            )
        except DomainError as exc:
            return await _ticket_page(
                request,
                principal,
                runtime,
                ticket_id,
                status_code=exc.status_code,
                errors={"body": exc.detail},
                draft=body,
            )
        return Redirect(f"/agent/tickets/{ticket_id}#m{message.id}", status_code=303)

    @get("/new")
    async def phone_form(self, request: Req, principal: PrincipalDep, runtime: RuntimeDep) -> Template:
        require_staff(principal)
        return await _phone_page(request, principal, runtime, form={}, errors={})

    @post("/new")
    async def phone_ticket(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep
    ) -> Template | Redirect:
        """Log a call as a ticket on the caller's behalf (channel ``phone``)."""
        require_staff(principal)
        form = await checked_form(request, principal)
        values = {
            k: field(form, k)
            for k in (
                "customer_id",
                "customer_email",
                "customer_name",
                "subject",
                "description",
                "priority",
                "queue_id",
            )
        }
        payload: dict[str, Any] = {
            "subject": values["subject"],
            "description": values["description"] or values["subject"],
            "channel": "phone",
        }
        if optional_int(values["customer_id"]):
            payload["customer_id"] = optional_int(values["customer_id"])
        elif values["customer_email"]:
            payload["customer_email"] = values["customer_email"]
            if values["customer_name"]:
                payload["customer_name"] = values["customer_name"]
        else:
            return await _phone_page(
                request,
                principal,
                runtime,
                form=values,
                errors={
                    "customer": gettext_for(request, principal)(N_("Find the caller or type their e-mail."))
                },
                status_code=422,
            )
        if values["priority"]:
            payload["priority"] = values["priority"]
        if optional_int(values["queue_id"]):
            payload["queue_id"] = optional_int(values["queue_id"])
        try:
            data = convert(payload, TicketCreate)
            ticket = await TicketService(runtime).open_ticket(principal, data, channel=Channel.PHONE)
        except FormErrors as exc:
            return await _phone_page(
                request, principal, runtime, form=values, errors=exc.errors, status_code=422
            )
        except DomainError as exc:
            return await _phone_page(
                request, principal, runtime, form=values, errors=errors_of(exc), status_code=exc.status_code
            )
        return Redirect(f"/agent/tickets/{ticket.id}", status_code=303)


async def _phone_page(
    request: Req,
    principal: Principal,
    runtime: Runtime,
    *,
    form: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Template:
    return page(
        request,
        principal,
        "agent/new.html",
        status_code=status_code,
        form=form,
        errors=errors,
        groups=await StaffService(runtime).list_groups(),
        priorities=list(Priority),
    )


def _parse_instant(text: str) -> datetime | None:
    try:
        return msgspec.convert(text, datetime) if text else None
    except msgspec.ValidationError:
        return None
