"""Knowledge-base jobs: thin, idempotent wrappers over the services."""

from __future__ import annotations

from typing import Any

from knowledge_base.suggestions import SuggestionService


async def suggest_for_ticket_job(ctx: dict[str, Any], ticket_id: int) -> int:
    """After a ticket is opened: store its top article suggestions (a second run stores the same rows)."""
    return await SuggestionService(ctx["runtime"]).suggest_for_ticket(ticket_id)


async def refresh_kb_boosts_job(ctx: dict[str, Any]) -> int:
    """Cron: reload links into replies and "helpful" marks into this process's ranking (learning from use)."""
    return await SuggestionService(ctx["runtime"]).refresh_boosts()
