"""Field service endpoints under /api/v1/dispatch, and the technicians' calendar feed.

Controllers parse, call a service and return a schema. They ask for the help desk's ``TicketPort`` as the
``tickets`` dependency (``helpdesk.field.api`` provides it).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from litestar import Controller, Response, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, PathParameter, QueryParameter
from litestar.types import ControllerRouterHandler

from dispatch.job_list import JobListService
from dispatch.plan_edits import PlanEditService
from dispatch.plans import PlanService
from dispatch.ports import TicketPortDep
from dispatch.resources import AssetService, SkillService, TechnicianService
from dispatch.rules import WorkOrderStatus
from dispatch.schemas import (
    AssetCreate,
    AssetRead,
    CompletionRequest,
    JobList,
    MoveRequest,
    PlanCreate,
    PlanRead,
    ReplanCreate,
    SkillCreate,
    SkillRead,
    TechnicianCreate,
    TechnicianRead,
    TechnicianUpdate,
    TransitionRequest,
    WorkOrderCreate,
    WorkOrderDetail,
    WorkOrderRead,
)
from dispatch.service import DISPATCHERS, WorkOrderService
from helpdesk.core.context import ContextDep
from helpdesk.core.principal import PrincipalDep, Role, require_role


class SkillController(Controller):
    path = "/skills"
    tags = ["dispatch"]

    @get("/", summary="The skill catalogue")
    async def list_skills(self, principal: PrincipalDep, runtime: ContextDep) -> list[SkillRead]:
        require_role(principal, *DISPATCHERS)
        return await SkillService(runtime).list_skills()

    @post("/", summary="Add a skill (admin)")
    async def create_skill(
        self, data: JSONBody[SkillCreate], principal: PrincipalDep, runtime: ContextDep
    ) -> SkillRead:
        require_role(principal, Role.ADMIN)
        return await SkillService(runtime).create_skill(data)


class AssetController(Controller):
    path = "/assets"
    tags = ["dispatch"]

    @get("/", summary="Assets, by owner organisation or serial number")
    async def list_assets(
        self,
        principal: PrincipalDep,
        runtime: ContextDep,
        organisation_id: FromQuery[int | None] = None,
        serial_number: Annotated[str | None, QueryParameter(max_length=100)] = None,
    ) -> list[AssetRead]:
        require_role(principal, *DISPATCHERS)
        return await AssetService(runtime).list_assets(
            organisation_id=organisation_id, serial_number=serial_number
        )

    @post("/", summary="Register an asset (admin, manager)")
    async def create_asset(
        self, data: JSONBody[AssetCreate], principal: PrincipalDep, runtime: ContextDep
    ) -> AssetRead:
        """Serial numbers are unique per product; coordinates are WGS84; `warranty_until` is the last day of
        warranty; `contract_id` names the service contract that covers the asset, if any."""
        require_role(principal, Role.ADMIN, Role.MANAGER)
        return await AssetService(runtime).create_asset(data)

    @get("/{asset_id:int}", summary="One asset")
    async def get_asset(
        self, asset_id: FromPath[int], principal: PrincipalDep, runtime: ContextDep
    ) -> AssetRead:
        require_role(principal, *DISPATCHERS)
        return await AssetService(runtime).get_asset(asset_id)


class TechnicianController(Controller):
    path = "/technicians"
    tags = ["dispatch"]

    @get("/", summary="Technicians")
    async def list_technicians(
        self, principal: PrincipalDep, runtime: ContextDep, tickets: TicketPortDep
    ) -> list[TechnicianRead]:
        require_role(principal, *DISPATCHERS)
        return await TechnicianService(runtime, tickets).list_technicians()

    @post("/", summary="Make a technician plannable (admin)")
    async def create_technician(
        self,
        data: JSONBody[TechnicianCreate],
        principal: PrincipalDep,
        runtime: ContextDep,
        tickets: TicketPortDep,
    ) -> TechnicianRead:
        """`hours` is an SLA business calendar (weekly hours, absence days as `holidays`); the answer carries
        the secret calendar URL (`ical_url`) once."""
        require_role(principal, Role.ADMIN)
        return await TechnicianService(runtime, tickets).create_technician(data)

    @get("/{technician_id:int}", summary="One technician")
    async def get_technician(
        self,
        technician_id: FromPath[int],
        principal: PrincipalDep,
        runtime: ContextDep,
        tickets: TicketPortDep,
    ) -> TechnicianRead:
        require_role(principal, *DISPATCHERS)
        return await TechnicianService(runtime, tickets).get_technician(technician_id)

    @patch("/{technician_id:int}", summary="Change skills, home, hours, exceptions or limits (admin)")
    async def update_technician(
        self,
        technician_id: FromPath[int],
        data: JSONBody[TechnicianUpdate],
        principal: PrincipalDep,
        runtime: ContextDep,
        tickets: TicketPortDep,
    ) -> TechnicianRead:
        require_role(principal, Role.ADMIN)
        return await TechnicianService(runtime, tickets).update_technician(technician_id, data)

    @post("/{technician_id:int}/ical-token", summary="A new secret calendar URL (admin)")
    async def rotate_ical_token(
        self,
        technician_id: FromPath[int],
        principal: PrincipalDep,
        runtime: ContextDep,
        tickets: TicketPortDep,
    ) -> TechnicianRead:
        require_role(principal, Role.ADMIN)
        return await TechnicianService(runtime, tickets).rotate_ical_token(technician_id)

    @get("/{technician_id:int}/jobs", summary="A technician's job list for a day")
    async def job_list(
        self,
        technician_id: FromPath[int],
        principal: PrincipalDep,
        runtime: ContextDep,
        tickets: TicketPortDep,
        day: FromQuery[date | None] = None,
    ) -> JobList:
        """Technicians see their own list only; dispatchers any. `day` defaults to today (UTC)."""
        return await JobListService(runtime, tickets).job_list(
            principal, day or runtime.clock.now().date(), technician_id
        )


@get("/my-jobs", tags=["dispatch"], summary="The signed-in technician's job list for a day")
async def my_jobs(
    principal: PrincipalDep, runtime: ContextDep, tickets: TicketPortDep, day: FromQuery[date | None] = None
) -> JobList:
    return await JobListService(runtime, tickets).job_list(principal, day or runtime.clock.now().date())


class WorkOrderController(Controller):
    path = "/work-orders"
    tags = ["dispatch"]

    @post("/", summary="Create a work order from a ticket")
    async def create_work_order(
        self,
        data: JSONBody[WorkOrderCreate],
        principal: PrincipalDep,
        runtime: ContextDep,
        tickets: TicketPortDep,
    ) -> WorkOrderRead:
        """The location comes from the asset (`asset_id` or `asset_serial`) unless `location` is given; the
        warranty decision (`billing`, `billing_reason`) is taken now and audited."""
        return await WorkOrderService(runtime).create_from_ticket(principal, data, tickets)

    @get("/", summary="Work orders")
    async def list_work_orders(
        self,
        principal: PrincipalDep,
        runtime: ContextDep,
        status: FromQuery[list[WorkOrderStatus] | None] = None,
        ticket_id: FromQuery[int | None] = None,
        day: FromQuery[date | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> list[WorkOrderRead]:
        return await WorkOrderService(runtime).list_work_orders(
            principal, status=status, ticket_id=ticket_id, day=day, limit=limit
        )

    @get("/{order_id:int}", summary="A work order with its audit trail")
    async def get_work_order(
        self, order_id: FromPath[int], principal: PrincipalDep, runtime: ContextDep
    ) -> WorkOrderDetail:
        return await WorkOrderService(runtime).get_work_order(principal, order_id)

    @post("/{order_id:int}/transitions", status_code=200, summary="Move a work order one lifecycle step")
    async def transition(
        self,
        order_id: FromPath[int],
        data: JSONBody[TransitionRequest],
        principal: PrincipalDep,
        runtime: ContextDep,
    ) -> WorkOrderRead:
        """Send the `version` you read (409 if stale). `cannot_complete` and `cancelled` need a `reason`."""
        return await WorkOrderService(runtime).transition(principal, order_id, data)

    @post("/{order_id:int}/completion", status_code=200, summary="Complete a work order on site")
    async def complete(
        self,
        order_id: FromPath[int],
        data: JSONBody[CompletionRequest],
        principal: PrincipalDep,
        runtime: ContextDep,
    ) -> WorkOrderRead:
        return await WorkOrderService(runtime).complete(principal, order_id, data)


class PlanController(Controller):
    path = "/plans"
    tags = ["dispatch"]

    @post("/", status_code=202, summary="Plan a day (runs as a job)")
    async def create_plan(
        self, data: JSONBody[PlanCreate], principal: PrincipalDep, runtime: ContextDep
    ) -> PlanRead:
        """Poll `GET /plans/{id}` for `status` (queued, running, done, failed) and the counts."""
        return await PlanService(runtime).create_plan(principal, data)

    @get("/", summary="Plans, newest first")
    async def list_plans(
        self, principal: PrincipalDep, runtime: ContextDep, day: FromQuery[date | None] = None
    ) -> list[PlanRead]:
        return await PlanService(runtime).list_plans(principal, day)

    @get("/{plan_id:int}", summary="A plan with its visits and unscheduled orders")
    async def get_plan(
        self, plan_id: FromPath[int], principal: PrincipalDep, runtime: ContextDep
    ) -> PlanRead:
        return await PlanService(runtime).get_plan(principal, plan_id)

    @post("/{plan_id:int}/moves", status_code=200, summary="Move a visit by hand (validated)")
    async def move(
        self,
        plan_id: FromPath[int],
        data: JSONBody[MoveRequest],
        principal: PrincipalDep,
        runtime: ContextDep,
    ) -> PlanRead:
        """422 `invalid_move` lists every rule the result would break (skills, windows, shifts, breaks)."""
        return await PlanEditService(runtime).move(principal, plan_id, data)

    @post("/{plan_id:int}/publish", status_code=200, summary="Publish a plan and notify customers")
    async def publish(self, plan_id: FromPath[int], principal: PrincipalDep, runtime: ContextDep) -> PlanRead:
        return await PlanEditService(runtime).publish(principal, plan_id)

    @post(
        "/{plan_id:int}/replan",
        status_code=202,
        summary="Re-plan the rest of a published day (runs as a job)",
    )
    async def replan(
        self,
        plan_id: FromPath[int],
        data: JSONBody[ReplanCreate],
        principal: PrincipalDep,
        runtime: ContextDep,
    ) -> PlanRead:
        return await PlanService(runtime).create_replan(principal, plan_id, data)


@get("/dispatch/ical/{filename:str}", include_in_schema=False, media_type="text/calendar")
async def ical_feed(
    filename: Annotated[str, PathParameter(max_length=120)], runtime: ContextDep, tickets: TicketPortDep
) -> Response[bytes]:
    """`/dispatch/ical/{token}.ics`: the secret URL is the permission; a wrong token is 404."""
    token = filename.removesuffix(".ics")
    body = await JobListService(runtime, tickets).calendar_feed(token)
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, max-age=300", "X-Robots-Tag": "noindex"},
    )


API_HANDLERS: list[ControllerRouterHandler] = [
    SkillController,
    AssetController,
    TechnicianController,
    WorkOrderController,
    PlanController,
    my_jobs,
]
