"""Report jobs: keeping the dashboard's counters small."""

from __future__ import annotations

from typing import Any

from helpdesk.reports.counts import fold_report_counts


async def fold_report_counts_job(ctx: dict[str, Any]) -> int:
    """Cron, every minute: fold the counters' new deltas into one row per key (the figures read the same before
    and after; running it twice or at once is safe)."""
    return await fold_report_counts(ctx["runtime"])
