"""Technician utilisation and travel share from the published day plans of a period.

Per technician: on-duty minutes (leaving home to coming back, less lunch), minutes working on site and
minutes travelling. Utilisation is work / on duty; travel share is travel / (work + travel). Technicians are
not tied to a queue or organisation, so only the period filters this report.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import msgspec
from sqlalchemy import func, select

from dispatch.models import PlanRow, PlanVisitRow, TechnicianRow
from helpdesk.reports.schemas import ReportFilters
from helpdesk.runtime import Runtime

PUBLISHED = "published"


class TechnicianLoad(msgspec.Struct, kw_only=True):
    technician: str
    days: int
    on_duty_minutes: int
    work_minutes: int
    travel_minutes: int
    utilisation_percent: float | None
    travel_share_percent: float | None


def technician_loads(
    names: Mapping[int, str],
    routes_by_plan: Iterable[Mapping[str, Any]],
    work_seconds: Mapping[int, int],
) -> list[TechnicianLoad]:
    """Pure: ``routes_by_plan`` are the plans' per-route facts (seconds), ``work_seconds`` the time on site
    per technician over the same plans. Technicians with no route are left out; sorted by name."""
    duty: dict[int, int] = {}
    travel: dict[int, int] = {}
    days: dict[int, int] = {}
    for routes in routes_by_plan:
        for key, info in routes.items():
            tech = int(key)
            lunch = info.get("lunch")
            lunch_seconds = lunch[1] - lunch[0] if lunch else 0
            duty[tech] = duty.get(tech, 0) + max(0, info["return"] - info["departure"] - lunch_seconds)
            travel[tech] = travel.get(tech, 0) + int(info.get("travel_seconds", 0))
            days[tech] = days.get(tech, 0) + 1
    loads = []
    for tech, on_duty in duty.items():
        work, moving = work_seconds.get(tech, 0), travel[tech]
        loads.append(
            TechnicianLoad(
                technician=names.get(tech, f"#{tech}"),
                days=days[tech],
                on_duty_minutes=on_duty // 60,
                work_minutes=work // 60,
                travel_minutes=moving // 60,
                utilisation_percent=round(100 * work / on_duty, 1) if on_duty else None,
                travel_share_percent=round(100 * moving / (work + moving), 1) if work + moving else None,
            )
        )
    return sorted(loads, key=lambda load: load.technician)


async def utilisation(runtime: Runtime, filters: ReportFilters) -> list[TechnicianLoad]:
    """Loads over the published plans whose day falls in the period; three queries."""
    async with runtime.sessions() as session:
        plans = (
            await session.execute(
                select(PlanRow.id, PlanRow.routes).where(
                    PlanRow.status == PUBLISHED,
                    PlanRow.day >= filters.since.date(),
                    PlanRow.day <= filters.until.date(),
                )
            )
        ).all()
        if not plans:
            return []
        worked = await session.execute(
            select(
                PlanVisitRow.technician_id,
                func.sum(PlanVisitRow.end_seconds - PlanVisitRow.start_seconds),
            )
            .where(PlanVisitRow.plan_id.in_([p.id for p in plans]))
            .group_by(PlanVisitRow.technician_id)
        )
        work_seconds = {int(t): int(s or 0) for t, s in worked}
        names = {t.id: t.name for t in await session.execute(select(TechnicianRow.id, TechnicianRow.name))}
    return technician_loads(names, [p.routes for p in plans], work_seconds)
