"""The technician's phone page: today's jobs in order, with big buttons that move a job through its statuses.

Signed in with the staff session (``/login``); every button is a form with the CSRF token. The page calls
the same services as the API, so the lifecycle rules, optimistic locking and the ticket notes are the same.
Times and "today" are the technician's calendar zone's: their hours and arrival windows are kept in it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from dispatch.job_list import JobListService
from dispatch.schemas import CompletionRequest, TransitionRequest
from dispatch.service import WorkOrderService
from helpdesk.accounts.dependencies import PrincipalDep
from helpdesk.core.errors import DomainError, InvalidInput
from helpdesk.core.principal import Principal, require_authenticated
from helpdesk.core.zones import zone_named
from helpdesk.field.tickets import HelpdeskTickets
from helpdesk.runtime import Runtime, RuntimeDep
from helpdesk.web.render import Req, checked_form, field, gettext_for, page


class TechnicianPages(Controller):
    path = "/technician"
    include_in_schema = False

    @get("/")
    async def jobs_page(
        self,
        request: Req,
        principal: PrincipalDep,
        runtime: RuntimeDep,
        day: FromQuery[date | None] = None,
        done: FromQuery[str | None] = None,
    ) -> Template:
        require_authenticated(principal)
        return await _render(request, principal, runtime, day, notice=done)

    @post("/jobs/{order_id:int}/status")
    async def move_job(
        self, request: Req, order_id: FromPath[int], principal: PrincipalDep, runtime: RuntimeDep
    ) -> Template | Redirect:
        form = await checked_form(request, principal)
        try:
            data = _convert(
                {
                    "version": _int(field(form, "version")),
                    "status": field(form, "status"),
                    "reason": field(form, "reason"),
                },
                TransitionRequest,
            )
            order = await WorkOrderService(runtime).transition(principal, order_id, data)
        except DomainError as exc:
            return await _render(
                request, principal, runtime, None, error=exc.detail, status_code=exc.status_code
            )
        return Redirect(f"/technician?done={order.reference}+{order.status}")

    @post("/jobs/{order_id:int}/complete")
    async def complete_job(
        self, request: Req, order_id: FromPath[int], principal: PrincipalDep, runtime: RuntimeDep
    ) -> Template | Redirect:
        form = await checked_form(request, principal)
        minutes = field(form, "time_on_site_minutes")
        parts = [p.strip() for p in field(form, "parts_used").replace("\n", ",").split(",") if p.strip()]
        try:
            data = _convert(
                {
                    "version": _int(field(form, "version")),
                    "time_on_site_minutes": _int(minutes) if minutes else None,
                    "parts_used": parts,
                    "notes": field(form, "notes"),
                    "signoff_name": field(form, "signoff_name"),
                    "all_done": field(form, "all_done") == "yes",
                },
                CompletionRequest,
            )
            order = await WorkOrderService(runtime).complete(principal, order_id, data)
        except DomainError as exc:
            return await _render(
                request, principal, runtime, None, error=exc.detail, status_code=exc.status_code
            )
        return Redirect(f"/technician?done={order.reference}+completed")


async def _render(
    request: Req,
    principal: Principal,
    runtime: Runtime,
    day: date | None,
    *,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    if notice:
        # "WO-12 en_route" from the redirect: the status in the reader's language.
        reference, _, status = notice.partition(" ")
        notice = f"{reference} {gettext_for(request, principal)(status)}" if status else reference
    service = JobListService(runtime, HelpdeskTickets(runtime))
    now = runtime.clock.now()
    jobs = await service.job_list(principal, day or now.date())
    zone = zone_named(jobs.time_zone)
    if day is None and now.astimezone(zone).date() != jobs.day:
        # Near midnight UTC, a technician east or west of Greenwich is already on their next or previous day.
        jobs = await service.job_list(principal, now.astimezone(zone).date())
    return page(
        request,
        principal,
        "technician/jobs.html",
        status_code=status_code,
        jobs=jobs,
        notice=notice,
        error=error,
        tz=zone,
    )


def _int(text: str) -> int | str:
    return int(text) if text.isdigit() else text


def _convert(payload: dict[str, Any], kind: type[Any]) -> Any:
    try:
        return msgspec.convert(payload, kind)
    except msgspec.ValidationError as exc:
        message = str(exc)
        name = message.rsplit("$.", 1)[-1].rstrip("`") if "$." in message else None
        raise InvalidInput(f"{name or 'form'}: {message.split(' - at ', maxsplit=1)[0]}", field=name) from exc
