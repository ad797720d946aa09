"""Managers' SLA reports under /api/v1/reports (JSON and CSV)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from litestar import Controller, Response, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery, QueryParameter

from helpdesk.core.errors import InvalidInput
from helpdesk.core.principal import PrincipalDep, Role, require_role
from helpdesk.reports.schemas import ComplianceReport, ReportFilters, SlaEvent
from helpdesk.reports.service import ReportService, events_csv
from helpdesk.runtime import RuntimeDep
from helpdesk.tickets.rules import Priority

REPORT_ROLES = (Role.ADMIN, Role.MANAGER)


async def provide_filters(
    runtime: RuntimeDep,
    since: FromQuery[datetime | None] = None,
    until: FromQuery[datetime | None] = None,
    queue_id: FromQuery[int | None] = None,
    priority: FromQuery[Priority | None] = None,
    organisation_id: FromQuery[int | None] = None,
    assignee_id: FromQuery[int | None] = None,
) -> ReportFilters:
    """The report filters every report takes from the query string (default period: the last 30 days)."""
    for name, instant in (("since", since), ("until", until)):
        if instant is not None and instant.utcoffset() is None:
            # A time without a zone is a different instant in every office: ask rather than guess.
            raise InvalidInput(f"{name}: give a time zone, e.g. 2027-03-01T00:00:00Z", field=name)
    now = runtime.clock.now()
    return ReportFilters(
        since=since or now - timedelta(days=30),
        until=until or now + timedelta(seconds=1),
        queue_id=queue_id,
        priority=str(priority) if priority else None,
        organisation_id=organisation_id,
        assignee_id=assignee_id,
    )


FiltersDep = NamedDependency[ReportFilters]


class SlaReportController(Controller):
    path = "/reports/sla"
    tags = ["reports"]
    dependencies = {"filters": Provide(provide_filters)}

    @get("/events", summary="SLA breaches and warnings in a period (default: the last 30 days)")
    async def events(
        self,
        principal: PrincipalDep,
        runtime: RuntimeDep,
        filters: FiltersDep,
        limit: Annotated[int, QueryParameter(ge=1, le=10_000)] = 500,
    ) -> list[SlaEvent]:
        require_role(principal, *REPORT_ROLES)
        return await ReportService(runtime).sla_events(filters, limit=limit)

    @get("/events.csv", summary="The same events as CSV", media_type="text/csv")
    async def events_csv(
        self, principal: PrincipalDep, runtime: RuntimeDep, filters: FiltersDep
    ) -> Response[str]:
        require_role(principal, *REPORT_ROLES)
        events = await ReportService(runtime).sla_events(filters, limit=10_000)
        return Response(
            events_csv(events),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="sla-events.csv"'},
        )

    @get("/compliance", summary="Met versus breached per SLA target in a period")
    async def compliance(
        self, principal: PrincipalDep, runtime: RuntimeDep, filters: FiltersDep
    ) -> ComplianceReport:
        require_role(principal, *REPORT_ROLES)
        return await ReportService(runtime).compliance(filters)
