"""The managers' dashboard: every chart filtered by period, queue and organisation, each with a CSV export."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import msgspec
from litestar import Controller, Response, get
from litestar.params import FromPath
from litestar.response import Template

from helpdesk.core.errors import NotFound
from helpdesk.core.principal import PrincipalDep
from helpdesk.customers.queries import CustomerQueries
from helpdesk.reports.dashboard import SAMPLE_LIMIT, DashboardQueries, Step, bucket_step
from helpdesk.reports.schemas import ReportFilters
from helpdesk.reports.service import _cell
from helpdesk.reports.utilisation import TechnicianLoad, utilisation
from helpdesk.runtime import Runtime, RuntimeDep
from helpdesk.web import charts
from helpdesk.web.render import (
    MANAGER_ROLES,
    Req,
    gettext_for,
    language_of,
    optional_int,
    page,
    require_staff,
    zone_of,
)

PERIODS = (7, 30, 90, 365)
# The dashboard's reads, each on a connection of its own, run at most this many at a time (the slow ones
# first): the page still waits for about the slowest, and the rest of the pool stays free for intake and
# jobs, also when several managers open it at once.
DASHBOARD_READS = 4
T = TypeVar("T")


async def _in_turn(slots: asyncio.Semaphore, read: Awaitable[T]) -> T:
    async with slots:
        return await read


CHARTS = ("compliance", "alerts", "backlog", "times", "satisfaction", "field", "utilisation")


def report_filters(runtime: Runtime, params: Any) -> tuple[ReportFilters, int]:
    days = optional_int(params.get("days")) or 30
    days = days if days in PERIODS else 30
    until = runtime.clock.now() + timedelta(seconds=1)
    return (
        ReportFilters(
            since=until - timedelta(days=days),
            until=until,
            queue_id=optional_int(params.get("queue_id")),
            organisation_id=optional_int(params.get("organisation_id")),
        ),
        days,
    )


async def _utilisation_rows(runtime: Runtime, filters: ReportFilters) -> list[list[Any]]:
    fields = list(TechnicianLoad.__struct_fields__)
    return [fields] + [[getattr(load, f) for f in fields] for load in await utilisation(runtime, filters)]


async def _rows(runtime: Runtime, chart: str, filters: ReportFilters, zone: ZoneInfo) -> list[list[Any]]:
    """The numbers behind one chart, header first (what the CSV export writes); months begin in ``zone``."""
    queries = DashboardQueries(runtime)
    if chart == "compliance":
        rows: list[list[Any]] = [["since", "until", "target", "met", "breached", "compliance_percent"]]
        for point in await queries.compliance_over_time(filters, zone):
            for t in point.targets:
                rows.append([point.since, point.until, t.target, t.met, t.breached, t.compliance_percent])
        return rows
    if chart == "alerts":
        rows = [["reference", "subject", "priority", "target", "state", "due_at"]]
        for a in await queries.alerts_now(filters):
            rows.append([a.reference, a.subject, a.priority, a.clock.target, a.clock.state, a.clock.due_at])
        return rows
    if chart == "backlog":
        return [["queue", "priority", "open_tickets"]] + [
            [c.queue, c.priority, c.count] for c in await queries.backlog(filters)
        ]
    if chart == "times":
        dist = await queries.time_distribution(filters)
        return [["hours", "first_response", "resolution"]] + [
            [label, first, res]
            for label, first, res in zip(dist.labels, dist.first_response, dist.resolution, strict=True)
        ]
    if chart == "satisfaction":
        summary = await queries.satisfaction(filters)
        return [["score", "ratings"]] + [[s, n] for s, n in summary.by_score.items()]
    if chart == "field":
        work = await queries.field_work(filters)
        return [["billing", "work_orders", "minutes_on_site"]] + [
            [b, n, work.minutes_by_billing.get(b, 0)] for b, n in work.by_billing.items()
        ]
    raise NotFound(f"no chart named {chart}")


class ManagerDashboard(Controller):
    path = "/manager"
    include_in_schema = False

    @get("/")
    async def dashboard(self, request: Req, principal: PrincipalDep, runtime: RuntimeDep) -> Template:
        require_staff(principal, MANAGER_ROLES)
        _ = gettext_for(request, principal)
        filters, days = report_filters(runtime, request.query_params)
        zone = zone_of(request, principal)
        queries = DashboardQueries(runtime)
        if request.query_params.get("partial") == "rows":
            alerts = await queries.alerts_now(filters)
            return page(request, principal, "manager/_alerts.html", alerts=alerts, now=runtime.clock.now())
        # Each figure is its own read on its own connection (see DASHBOARD_READS).
        slots = asyncio.Semaphore(DASHBOARD_READS)
        async with asyncio.TaskGroup() as reads:
            alerts_read = reads.create_task(_in_turn(slots, queries.alerts_now(filters)))
            points_read = reads.create_task(_in_turn(slots, queries.compliance_over_time(filters, zone)))
            dist_read = reads.create_task(_in_turn(slots, queries.time_distribution(filters)))
            backlog_read = reads.create_task(_in_turn(slots, queries.backlog(filters)))
            satisfaction_read = reads.create_task(_in_turn(slots, queries.satisfaction(filters)))
            field_read = reads.create_task(_in_turn(slots, queries.field_work(filters)))
            loads_read = reads.create_task(_in_turn(slots, utilisation(runtime, filters)))
            groups_read = reads.create_task(_in_turn(slots, queries.queue_choices()))
            organisations_read = reads.create_task(
                _in_turn(slots, CustomerQueries(runtime).list_organisations(limit=500, offset=0))
            )
        alerts, points, backlog_cells = alerts_read.result(), points_read.result(), backlog_read.result()
        dist, satisfaction, field = dist_read.result(), satisfaction_read.result(), field_read.result()
        loads, groups, organisations = loads_read.result(), groups_read.result(), organisations_read.result()
        context: dict[str, Any] = {"alerts": alerts, "now": runtime.clock.now()}
        target_names = {
            "first_response": _("First response"),
            "next_response": _("Next response"),
            "resolution": _("Resolution"),
            "periodic_update": _("Periodic update"),
        }
        months = bucket_step(filters.since, filters.until) is Step.MONTH
        labels = charts.period_labels(
            [p.since for p in points], months, language_of(request, principal), zone
        )
        series: dict[str, list[float | None]] = {}
        for point in points:
            for t in point.targets:
                series.setdefault(target_names.get(t.target, t.target), []).append(t.compliance_percent)
        backlog = [
            msgspec.structs.replace(c, queue=_("No queue")) if c.queue == "—" else c for c in backlog_cells
        ]
        queues = sorted({c.queue for c in backlog})
        priorities = sorted({c.priority for c in backlog})
        counts = {(c.queue, c.priority): c.count for c in backlog}
        billing_names = {"warranty": _("Warranty"), "contract": _("Contract"), "billable": _("Billable")}
        pictures = {
            "compliance": charts.line(_("SLA compliance per target (%)"), labels, series, percent=True),
            "backlog": charts.bars(
                _("Open tickets by queue and priority"),
                queues,
                {p: [counts.get((q, p), 0) for q in queues] for p in priorities},
                stacked=True,
            ),
            "times": charts.bars(
                _("Time to first response and to resolution"),
                dist.labels,
                {_("First response"): dist.first_response, _("Resolution"): dist.resolution},
            ),
            "satisfaction": charts.bars(
                _("Satisfaction ratings"),
                [f"{s} ★" for s in satisfaction.by_score],
                {_("Ratings"): list(satisfaction.by_score.values())},
            ),
        }
        if field.available:
            pictures["field"] = charts.bars(
                _("Field work: warranty and billable"),
                [billing_names.get(b, b) for b in field.by_billing],
                {_("Work orders"): list(field.by_billing.values())},
            )
        if loads:
            pictures["utilisation"] = charts.bars(
                _("Technician utilisation and travel share (%)"),
                [load.technician for load in loads],
                {
                    _("Utilisation"): [load.utilisation_percent or 0 for load in loads],
                    _("Travel share"): [load.travel_share_percent or 0 for load in loads],
                },
            )
        return page(
            request,
            principal,
            "manager/dashboard.html",
            filters=filters,
            days=days,
            periods=PERIODS,
            groups=groups,
            organisations=organisations,
            pictures=pictures,
            satisfaction=satisfaction,
            dist=dist,
            sample_limit=SAMPLE_LIMIT,
            field=field,
            loads=loads,
            query=_export_query(request),
            **context,
        )

    @get("/export/{name:str}")
    async def export(
        self, request: Req, principal: PrincipalDep, runtime: RuntimeDep, name: FromPath[str]
    ) -> Response[str]:
        """``/manager/export/backlog.csv``: the numbers behind one chart, with the page's filters."""
        require_staff(principal, MANAGER_ROLES)
        chart = name.removesuffix(".csv")
        filters, _ = report_filters(runtime, request.query_params)
        out = io.StringIO()
        writer = csv.writer(out)
        exporter = _utilisation_rows if chart == "utilisation" else None
        zone = zone_of(request, principal)
        rows = await exporter(runtime, filters) if exporter else await _rows(runtime, chart, filters, zone)
        for row in rows:
            writer.writerow([_cell(v) for v in row])
        stamp = runtime.clock.now().strftime("%Y%m%d")
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{chart}-{stamp}.csv"'},
        )


def _export_query(request: Req) -> str:
    params = request.query_params
    keep = [(k, params.get(k)) for k in ("days", "queue_id", "organisation_id") if params.get(k)]
    return "&".join(f"{k}={v}" for k, v in keep)
