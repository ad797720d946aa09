"""Ticket jobs: thin, idempotent wrappers over the services."""

from __future__ import annotations

from typing import Any

from helpdesk.tickets.escalation import escalate_overdue, run_escalation_actions
from helpdesk.tickets.sla_sync import recompute_policy


async def escalate_overdue_job(ctx: dict[str, Any]) -> int:
    """Cron, every minute: fire the SLA warnings and breaches that have come due (each once)."""
    return await escalate_overdue(ctx["runtime"])


async def recompute_sla_job(ctx: dict[str, Any], policy_id: int) -> int:
    """Move open tickets to a policy's current version (after an edit); running it twice moves nothing twice."""
    return await recompute_policy(ctx["runtime"], policy_id)


async def sla_escalation_actions_job(ctx: dict[str, Any], fired_ids: list[int]) -> int:
    """Notify, note and re-prioritise for fired SLA levels; a second run does nothing."""
    return await run_escalation_actions(ctx["runtime"], fired_ids)
