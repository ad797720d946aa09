"""Rows into API shapes (no queries, no rules)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import msgspec

from dispatch.models import AssetRow, PlanRow, PlanVisitRow, TechnicianRow, WorkOrderEventRow, WorkOrderRow
from dispatch.rules import WorkOrderStatus
from dispatch.schemas import (
    AssetRead,
    EventRead,
    PlanRead,
    PlanVisitRead,
    TechnicianRead,
    UnscheduledRead,
    Window,
    WorkOrderDetail,
    WorkOrderRead,
)
from dispatch.warranty import Billing
from sla.calendar import CalendarSpec


def asset_read(row: AssetRow) -> AssetRead:
    return AssetRead(
        id=row.id,
        serial_number=row.serial_number,
        product=row.product,
        model=row.model,
        organisation_id=row.organisation_id,
        customer_id=row.customer_id,
        site_address=row.site_address,
        lat=row.lat,
        lon=row.lon,
        installed_on=row.installed_on,
        warranty_until=row.warranty_until,
        warranty_terms=row.warranty_terms,
        contract_id=row.contract_id,
    )


def technician_read(row: TechnicianRow, ical_url: str | None = None) -> TechnicianRead:
    return TechnicianRead(
        id=row.id,
        user_id=row.user_id,
        name=row.name,
        skills=dict(row.skills),
        home_address=row.home_address,
        home_lat=row.home_lat,
        home_lon=row.home_lon,
        hours=msgspec.convert(row.hours, CalendarSpec),
        overtime=dict(row.overtime),
        lunch_window=row.lunch_window,
        lunch_minutes=row.lunch_minutes,
        daily_limit_minutes=row.daily_limit_minutes,
        is_active=row.is_active,
        ical_url=ical_url,
    )


def windows_of(row: WorkOrderRow) -> list[Window]:
    return [
        Window(start_at=datetime.fromisoformat(start), end_at=datetime.fromisoformat(end))
        for start, end in row.windows
    ]


def work_order_read(row: WorkOrderRow) -> WorkOrderRead:
    return WorkOrderRead(**_work_order_fields(row))


def work_order_detail(row: WorkOrderRow, events: list[WorkOrderEventRow]) -> WorkOrderDetail:
    return WorkOrderDetail(
        **_work_order_fields(row),
        events=[
            EventRead(
                actor=e.actor,
                field=e.field,
                old_value=e.old_value,
                new_value=e.new_value,
                note=e.note,
                created_at=e.created_at,
            )
            for e in events
        ],
    )


def _work_order_fields(row: WorkOrderRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "reference": row.reference,
        "ticket_id": row.ticket_id,
        "ticket_reference": row.ticket_reference,
        "summary": row.summary,
        "status": WorkOrderStatus(row.status),
        "priority": row.priority,
        "version": row.version,
        "asset_id": row.asset_id,
        "address": row.address,
        "lat": row.lat,
        "lon": row.lon,
        "required_skills": dict(row.required_skills),
        "required_parts": list(row.required_parts),
        "duration_minutes": row.duration_minutes,
        "windows": windows_of(row),
        "deadline_at": row.deadline_at,
        "billing": Billing(row.billing),
        "billing_reason": row.billing_reason,
        "contract_id": row.contract_id,
        "unscheduled_reason": row.unscheduled_reason,
        "technician_id": row.technician_id,
        "planned_start_at": row.planned_start_at,
        "planned_end_at": row.planned_end_at,
        "window_start_at": row.window_start_at,
        "window_end_at": row.window_end_at,
        "time_on_site_minutes": row.time_on_site_minutes,
        "parts_used": list(row.parts_used),
        "completion_notes": row.completion_notes,
        "signoff_name": row.signoff_name,
        "outcome_reason": row.outcome_reason,
    }


def plan_read(row: PlanRow, visits: list[PlanVisitRow]) -> PlanRead:
    start = row.day_start

    def at(seconds: int) -> datetime:
        assert start is not None
        return start + timedelta(seconds=seconds)

    return PlanRead(
        id=row.id,
        day=row.day,
        version=row.version,
        kind=row.kind,
        status=row.status,
        base_plan_id=row.base_plan_id,
        technician_count=row.technician_count,
        order_count=row.order_count,
        served_count=row.served_count,
        unscheduled_count=row.unscheduled_count,
        travel_minutes=row.travel_seconds // 60,
        lateness_minutes=row.lateness_seconds // 60,
        overtime_minutes=row.overtime_seconds // 60,
        solver=row.solver,
        error=row.error,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        published_at=row.published_at,
        visits=[
            PlanVisitRead(
                work_order_id=v.work_order_id,
                technician_id=v.technician_id,
                position=v.position,
                arrival_at=at(v.arrival_seconds),
                start_at=at(v.start_seconds),
                end_at=at(v.end_seconds),
                lateness_minutes=v.lateness_seconds // 60,
            )
            for v in sorted(visits, key=lambda v: (v.technician_id, v.position))
        ],
        unscheduled=[
            UnscheduledRead(
                work_order_id=int(u["work_order_id"]), reason=str(u["reason"]), detail=str(u["detail"])
            )
            for u in row.unscheduled
        ],
    )
