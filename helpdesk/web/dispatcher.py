"""The dispatcher's page: pick a day, run the planner (a job), review the plan per technician, move a visit
(validated: the broken rules are shown next to its row), publish. Agents, managers and admins dispatch."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from dispatch.plan_edits import InvalidMove, PlanEditService
from dispatch.plans import PlanService
from dispatch.schemas import MoveRequest, PlanCreate
from helpdesk.core.errors import DomainError
from helpdesk.core.principal import Principal, PrincipalDep
from helpdesk.field.board import day_board
from helpdesk.runtime import Runtime, RuntimeDep
from helpdesk.web.forms import FormErrors, convert, errors_of
from helpdesk.web.i18n import N_
from helpdesk.web.plan_moves import move_answer, move_payload, wants_json
from helpdesk.web.render import Req, checked_form, field, optional_int, page, require_staff, zone_of

PLANNING_SECONDS = "5"

# Codes the field service pages show through ``_(code)``: listed so that extraction puts them in the catalogs.
CODE_MESSAGES = (
    N_("unscheduled"),
    N_("scheduled"),
    N_("dispatched"),
    N_("en_route"),
    N_("on_site"),
    N_("completed"),
    N_("cannot_complete"),
    N_("cancelled"),
    N_("queued"),
    N_("running"),
    N_("done"),
    N_("failed"),
    N_("published"),
    N_("superseded"),
    N_("warranty"),
    N_("contract"),
    N_("billable"),
    N_("no_skilled_technician"),
    N_("no_window_fits"),
    N_("duration_exceeds_shift"),
    N_("capacity"),
    N_("pinned_technician_unavailable"),
    N_("no_room_in_plan"),
)


class DispatcherPages(Controller):
    path = "/agent/dispatch"
    include_in_schema = False

    @get("/")
    async def board(
        self,
        request: Req,
        principal: PrincipalDep,
        runtime: RuntimeDep,
        day: FromQuery[date | None] = None,
        plan: FromQuery[int | None] = None,
    ) -> Template:
        require_staff(principal)
        return await _board_page(
            request, principal, runtime, day or _today(request, principal, runtime), plan
        )

    @post("/plans")
    async def plan_day(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep
    ) -> Template | Redirect:
        """Queue a planning run for the chosen day; the page follows its progress."""
        require_staff(principal)
        form = await checked_form(request, principal)
        try:
            seconds = field(form, "time_limit_seconds") or PLANNING_SECONDS
            data = convert({"day": field(form, "day"), "time_limit_seconds": float(seconds)}, PlanCreate)
            plan = await PlanService(runtime).create_plan(principal, data)
        except (FormErrors, DomainError, ValueError) as exc:
            errors = (
                exc.errors
                if isinstance(exc, FormErrors)
                else errors_of(exc)
                if isinstance(exc, DomainError)
                else {"": str(exc)}
            )
            today = _today(request, principal, runtime)
            return await _board_page(request, principal, runtime, today, None, errors=errors, status_code=422)
        return Redirect(f"/agent/dispatch?day={plan.day}&plan={plan.id}", status_code=303)

    @post("/plans/{plan_id:int}/moves")
    async def move(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep, plan_id: FromPath[int]
    ) -> Template | Redirect | Response[dict[str, Any]]:
        """Move a visit to a technician and position (or off the plan); broken rules are shown at its row.
        The page's drag and drop sends the same form asking for JSON (see ``plan_moves``)."""
        require_staff(principal)
        form = await checked_form(request, principal)
        payload = move_payload(form)
        if wants_json(request):
            return await move_answer(request, principal, runtime, plan_id, payload)
        order_id = payload["work_order_id"]
        try:
            plan = await PlanEditService(runtime).move(principal, plan_id, convert(payload, MoveRequest))
        except InvalidMove as exc:
            problems = [f"{v.code}: {v.detail}" for v in exc.violations]
            return await _plan_page(request, principal, runtime, plan_id, {order_id: problems})
        except (FormErrors, DomainError) as exc:
            errors = exc.errors if isinstance(exc, FormErrors) else errors_of(exc)
            return await _plan_page(request, principal, runtime, plan_id, {order_id: list(errors.values())})
        return Redirect(
            f"/agent/dispatch?day={plan.day}&plan={plan.id}&moved={order_id}#wo-{order_id}", status_code=303
        )

    @post("/plans/{plan_id:int}/publish")
    async def publish(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep, plan_id: FromPath[int]
    ) -> Template | Redirect:
        """Publish the plan: technicians get their jobs and customers their arrival windows."""
        require_staff(principal)
        await checked_form(request, principal)
        try:
            plan = await PlanEditService(runtime).publish(principal, plan_id)
        except DomainError as exc:
            return await _plan_page(request, principal, runtime, plan_id, {0: [exc.detail]})
        return Redirect(f"/agent/dispatch?day={plan.day}&plan={plan.id}&published=1", status_code=303)


def _today(request: Req, principal: Principal, runtime: Runtime) -> date:
    """Today where the dispatcher is (their zone), not in UTC."""
    return runtime.clock.now().astimezone(zone_of(request, principal)).date()


async def _plan_page(
    request: Req, principal: Principal, runtime: Runtime, plan_id: int, row_errors: dict[int, list[str]]
) -> Template:
    chosen = await PlanService(runtime).get_plan(principal, plan_id)
    return await _board_page(
        request, principal, runtime, chosen.day, plan_id, row_errors=row_errors, status_code=422
    )


async def _board_page(
    request: Req,
    principal: Principal,
    runtime: Runtime,
    day: date,
    plan_id: int | None,
    *,
    errors: dict[str, str] | None = None,
    row_errors: dict[int, list[str]] | None = None,
    status_code: int = 200,
) -> Template:
    board = await day_board(runtime, principal, day, plan_id)
    return page(
        request,
        principal,
        "agent/dispatch.html",
        status_code=status_code,
        board=board,
        errors=errors or {},
        row_errors=row_errors or {},
        published=request.query_params.get("published"),
        moved=optional_int(request.query_params.get("moved")),
    )
