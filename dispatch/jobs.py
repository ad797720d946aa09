"""arq tasks of field service: ids in, the service does the work, safe to run twice."""

from __future__ import annotations

from typing import Any

from dispatch.plans import PlanService


async def plan_day_job(ctx: dict[str, Any], plan_id: int) -> bool:
    """Run a queued day plan (a plan already running or done is left alone)."""
    return await PlanService(ctx["runtime"]).run_plan(plan_id)


async def replan_job(ctx: dict[str, Any], plan_id: int) -> bool:
    """Run a queued re-plan of a published day."""
    return await PlanService(ctx["runtime"]).run_plan(plan_id)
