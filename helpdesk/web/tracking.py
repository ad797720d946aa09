"""The customer's request page, laid out like parcel tracking: status steps with times, the public
conversation, a reply box with files, and a one-click rating once the request is resolved. It works through
the tracking link alone or in a magic-link session."""

from __future__ import annotations

from litestar import Controller, post
from litestar.datastructures import UploadFile
from litestar.response import Redirect, Template

from helpdesk.core.errors import DomainError
from helpdesk.core.params import PathToken
from helpdesk.core.principal import Principal, PrincipalDep
from helpdesk.feedback.service import SCORES, FeedbackService
from helpdesk.runtime import Runtime, RuntimeDep
from helpdesk.tickets.attachments import AttachmentService
from helpdesk.tickets.queries import TicketQueries
from helpdesk.tickets.schemas import MessageCreate
from helpdesk.tickets.service import TicketService
from helpdesk.tickets.tracking import TrackingService
from helpdesk.web.render import Req, checked_form, gettext_for, optional_int, page

STATUS_STEPS = ["new", "open", "resolved", "closed"]


async def tracking_page(
    request: Req,
    principal: Principal,
    runtime: Runtime,
    token: str,
    *,
    created: bool = False,
    sent: bool = False,
    status_code: int = 200,
    error: str | None = None,
    draft: str = "",
) -> Template:
    view = await TicketQueries(runtime).track(token)
    times = await TrackingService(runtime).status_times(token)
    # Waiting on the customer or on us is still "in progress".
    step = STATUS_STEPS.index(view.status) if view.status in STATUS_STEPS else 1
    steps = [(s, times.get(s) if index <= step else None) for index, s in enumerate(STATUS_STEPS)]
    rating = None
    if view.status in ("resolved", "closed"):
        ticket = await TrackingService(runtime).ticket(token)
        rating = await FeedbackService(runtime).rating_for(ticket.id)
    return page(
        request,
        principal,
        "portal/track.html",
        status_code=status_code,
        view=view,
        token=token,
        created=created,
        sent=sent,
        steps=steps,
        step=step,
        rating=rating,
        scores=SCORES,
        error=error,
        draft=draft,
    )


class TrackingPages(Controller):
    path = "/track"
    include_in_schema = False

    @post("/{token:str}/reply")
    async def reply(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep, token: PathToken
    ) -> Template | Redirect:
        """Write to the request as its customer; files go with the message."""
        form = await checked_form(request, principal)
        body = str(form.get("body", "")).strip()
        tracking = TrackingService(runtime)
        if not body:
            _ = gettext_for(request, principal)
            message_text = _("Write a message first.")
            return await tracking_page(
                request, principal, runtime, token, status_code=422, error=message_text, draft=body
            )
        try:
            uploads = [f for f in form.getall("attachments", []) if isinstance(f, UploadFile) and f.filename]
            files = [(f.filename, f.content_type, await f.read()) for f in uploads]
            # The message and its files commit together: a file over a limit leaves nothing half-written.
            with_files = AttachmentService(runtime).with_message(files)
            if principal.is_customer:
                current = await tracking.ticket(token)
                ticket, message = await TicketService(runtime).add_message(
                    principal, current.id, MessageCreate(body=body), within=with_files
                )
            else:
                ticket, message = await tracking.reply(token, body, within=with_files)
        except DomainError as exc:
            return await tracking_page(
                request, principal, runtime, token, status_code=exc.status_code, error=exc.detail, draft=body
            )
        # A reply to a closed request opened a follow-up with a tracking link of its own.
        return Redirect(f"/track/{ticket.tracking_token}?sent=1#m{message.id}", status_code=303)

    @post("/{token:str}/rate")
    async def rate(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep, token: PathToken
    ) -> Template | Redirect:
        form = await checked_form(request, principal)
        score = optional_int(str(form.get("score", ""))) or 0
        try:
            await FeedbackService(runtime).rate_by_tracking(token, score, str(form.get("comment", "")))
        except DomainError as exc:
            return await tracking_page(
                request, principal, runtime, token, status_code=exc.status_code, error=exc.detail
            )
        return Redirect(f"/track/{token}?rated=1#rating", status_code=303)


__all__ = ["TrackingPages", "tracking_page"]
