"""SLA administration under /api/v1/sla: calendars, policies, contracts (admins write, the desk reads)."""

from __future__ import annotations

from litestar import Controller, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from helpdesk.core.context import ContextDep
from helpdesk.core.principal import PrincipalDep, Role, require_role
from sla.admin import SlaAdminService
from sla.schemas import (
    CalendarCreate,
    CalendarRead,
    CalendarUpdate,
    ContractCreate,
    ContractRead,
    PolicyCreate,
    PolicyRead,
    PolicyUpdate,
)

DESK = (Role.ADMIN, Role.MANAGER, Role.AGENT)


class CalendarController(Controller):
    path = "/sla/calendars"
    tags = ["sla"]

    @get("/", summary="Business calendars")
    async def list_calendars(self, principal: PrincipalDep, runtime: ContextDep) -> list[CalendarRead]:
        require_role(principal, *DESK)
        return await SlaAdminService(runtime).list_calendars()

    @post("/", summary="Create a business calendar (admin)")
    async def create_calendar(
        self, data: JSONBody[CalendarCreate], principal: PrincipalDep, runtime: ContextDep
    ) -> CalendarRead:
        """Weekly hours per weekday in the calendar's time zone (several intervals for lunch breaks),
        holidays from a country (`holiday_country`, `holiday_subdivision`) and explicit dates, extra working
        days, or `"24/7": true`. Overlapping or inverted intervals and unknown zones are rejected by field."""
        require_role(principal, Role.ADMIN)
        return await SlaAdminService(runtime).create_calendar(data)

    @patch("/{calendar_id:int}", summary="Change a business calendar (admin)")
    async def update_calendar(
        self,
        calendar_id: FromPath[int],
        data: JSONBody[CalendarUpdate],
        principal: PrincipalDep,
        runtime: ContextDep,
    ) -> CalendarRead:
        require_role(principal, Role.ADMIN)
        return await SlaAdminService(runtime).update_calendar(calendar_id, data)


class PolicyController(Controller):
    path = "/sla/policies"
    tags = ["sla"]

    @get("/", summary="SLA policies")
    async def list_policies(self, principal: PrincipalDep, runtime: ContextDep) -> list[PolicyRead]:
        require_role(principal, *DESK)
        return await SlaAdminService(runtime).list_policies()

    @post("/", summary="Create an SLA policy (admin)")
    async def create_policy(
        self, data: JSONBody[PolicyCreate], principal: PrincipalDep, runtime: ContextDep
    ) -> PolicyRead:
        """Targets in business minutes for every priority P1–P4, warning levels, pausing statuses and the
        actions of each escalation level."""
        require_role(principal, Role.ADMIN)
        return await SlaAdminService(runtime).create_policy(data)

    @patch("/{policy_id:int}", summary="Change an SLA policy (admin)")
    async def update_policy(
        self,
        policy_id: FromPath[int],
        data: JSONBody[PolicyUpdate],
        principal: PrincipalDep,
        runtime: ContextDep,
    ) -> PolicyRead:
        """Bumps the policy's version. Open tickets keep the version they were given until
        `POST /sla/policies/{id}/recompute` moves them on, so an edit never changes deadlines silently."""
        require_role(principal, Role.ADMIN)
        return await SlaAdminService(runtime).update_policy(policy_id, data)


class ContractController(Controller):
    path = "/sla/contracts"
    tags = ["sla"]

    @get("/", summary="Service contracts")
    async def list_contracts(
        self, principal: PrincipalDep, runtime: ContextDep, organisation_id: FromQuery[int | None] = None
    ) -> list[ContractRead]:
        require_role(principal, *DESK)
        return await SlaAdminService(runtime).list_contracts(organisation_id=organisation_id)

    @post("/", summary="Create a service contract (admin)")
    async def create_contract(
        self, data: JSONBody[ContractCreate], principal: PrincipalDep, runtime: ContextDep
    ) -> ContractRead:
        """An organisation or one customer → a policy, valid from/to, a tier that raises the priority the
        impact × urgency matrix gives, and what it covers (e.g. `warranty`, `premium_24_7`). A ticket takes the
        contract valid when it is created."""
        require_role(principal, Role.ADMIN)
        return await SlaAdminService(runtime).create_contract(data)


@post(
    "/sla/policies/{policy_id:int}/recompute",
    tags=["sla"],
    status_code=202,
    summary="Move open tickets to the policy's current version",
)
async def recompute_policy(
    policy_id: FromPath[int], principal: PrincipalDep, runtime: ContextDep
) -> dict[str, str]:
    require_role(principal, Role.ADMIN)
    await runtime.queue.enqueue("recompute_sla_job", policy_id, job_id=f"recompute-sla-{policy_id}")
    return {"detail": f"open tickets under policy {policy_id} are being recomputed"}
