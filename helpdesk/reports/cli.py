"""``helpdesk reports ...`` commands."""

from __future__ import annotations

import asyncio

import click


@click.group("reports")
def reports_group() -> None:
    """Reports: the dashboard's counters."""


@reports_group.command("recount")
def recount_command() -> None:
    """Count the dashboard's counters afresh from the tickets, SLA clocks and ratings (after a bulk load that
    switched the triggers off). Ticket writers and the fold cron wait until it commits."""
    asyncio.run(_recount())
    click.echo("report counters recounted")


async def _recount() -> None:
    from helpdesk.core.settings import Settings
    from helpdesk.reports.counts import recount_report_counts
    from helpdesk.runtime import start_runtime, stop_runtime

    runtime = await start_runtime(Settings.from_env(), in_process_jobs=True)
    try:
        await recount_report_counts(runtime)
    finally:
        await stop_runtime(runtime)
