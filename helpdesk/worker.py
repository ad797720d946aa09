"""The background worker: every job and cron of every domain, in one list.

``helpdesk worker`` runs ``WorkerSettings`` under arq against Redis. Without Redis the same functions run in
the API process (``InProcessJobQueue`` and ``run_crons_in_process``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from arq import cron

from helpdesk.core.outbox import relay_outbox
from helpdesk.core.queue import JobFunction
from helpdesk.core.settings import Settings
from helpdesk.core.transient import retry_when_transient

log = logging.getLogger(__name__)


async def relay_outbox_job(ctx: dict[str, Any]) -> int:
    """Queue outbox rows that a crash between commit and enqueue left behind."""
    runtime = ctx["runtime"]
    return await relay_outbox(runtime.sessions, runtime.queue, runtime.clock)


@dataclass(frozen=True)
class CronJob:
    function: JobFunction
    every_seconds: int


def jobs() -> list[JobFunction]:
    """Every job function; the name a job is queued under is its function's ``__name__``.

    Each is wrapped so that a database or server that is away for a moment makes the job come back later
    (``retry_when_transient``) instead of ending it for good; jobs are idempotent, so a retry is safe."""
    from dispatch.jobs import plan_day_job, replan_job
    from helpdesk.channels.email.jobs import (
        fetch_all_mailboxes_job,
        fetch_mailbox_job,
        process_inbound_mail_job,
        requeue_stuck_inbound_mail_job,
    )
    from helpdesk.field.auto_orders import create_tagged_work_order_job
    from helpdesk.field.jobs import mirror_work_order_events_job, notify_appointments_job
    from helpdesk.notifications.jobs import requeue_stuck_outgoing_mail_job, send_mail_job
    from helpdesk.reports.jobs import fold_report_counts_job
    from helpdesk.tickets.jobs import escalate_overdue_job, recompute_sla_job, sla_escalation_actions_job
    from knowledge_base.jobs import refresh_kb_boosts_job, suggest_for_ticket_job

    functions: list[JobFunction] = [
        relay_outbox_job,
        send_mail_job,
        escalate_overdue_job,
        sla_escalation_actions_job,
        recompute_sla_job,
        plan_day_job,
        replan_job,
        mirror_work_order_events_job,
        notify_appointments_job,
        create_tagged_work_order_job,
        process_inbound_mail_job,
        fetch_mailbox_job,
        fetch_all_mailboxes_job,
        requeue_stuck_inbound_mail_job,
        requeue_stuck_outgoing_mail_job,
        suggest_for_ticket_job,
        refresh_kb_boosts_job,
        fold_report_counts_job,
    ]
    return [retry_when_transient(function) for function in functions]


def crons() -> list[CronJob]:
    from helpdesk.channels.email.jobs import fetch_all_mailboxes_job, requeue_stuck_inbound_mail_job
    from helpdesk.notifications.jobs import requeue_stuck_outgoing_mail_job
    from helpdesk.reports.jobs import fold_report_counts_job
    from helpdesk.tickets.jobs import escalate_overdue_job
    from knowledge_base.jobs import refresh_kb_boosts_job

    return [
        CronJob(relay_outbox_job, 60),
        CronJob(escalate_overdue_job, 60),
        CronJob(fetch_all_mailboxes_job, 60),
        CronJob(refresh_kb_boosts_job, 300),
        # The dashboard's counters: triggers add deltas, this folds them (figures are exact either way).
        CronJob(fold_report_counts_job, 60),
        # Mail whose job was lost (Redis flushed, a job given up while the database was away).
        CronJob(requeue_stuck_inbound_mail_job, 300),
        CronJob(requeue_stuck_outgoing_mail_job, 300),
    ]


def job_functions() -> dict[str, JobFunction]:
    return {function.__name__: function for function in jobs()}


async def _on_startup(ctx: dict[str, Any]) -> None:
    from helpdesk.runtime import start_runtime
    from knowledge_base.live_index import live_index

    ctx["runtime"] = await start_runtime(Settings.from_env())
    live_index(ctx["runtime"])  # the knowledge-base index builds in the background


async def _on_shutdown(ctx: dict[str, Any]) -> None:
    from helpdesk.runtime import stop_runtime
    from knowledge_base.live_index import close_live_index

    if "runtime" in ctx:
        await close_live_index(ctx["runtime"])
        await stop_runtime(ctx["runtime"])


def _cron_minutes(every_seconds: int) -> set[int] | None:
    step = max(1, every_seconds // 60)
    return None if step == 1 else set(range(0, 60, step))


class WorkerSettings:
    """arq settings; ``redis_settings`` is supplied by ``helpdesk worker`` from ``HELPDESK_REDIS_URL``."""

    functions = jobs()
    cron_jobs = [
        cron(job.function, minute=_cron_minutes(job.every_seconds), run_at_startup=True, unique=True)  # type: ignore[arg-type]
        for job in crons()
    ]
    on_startup = _on_startup
    on_shutdown = _on_shutdown
    max_tries = 8
    job_timeout = 300


async def run_crons_in_process(
    ctx: dict[str, Any], stop: asyncio.Event, *, tick_seconds: float = 1.0
) -> None:
    """The embedded default's scheduler: run each cron at its interval until ``stop`` is set."""
    loop = asyncio.get_running_loop()
    next_run = {job.function.__name__: loop.time() for job in crons()}
    while not stop.is_set():
        for job in crons():
            name = job.function.__name__
            if loop.time() >= next_run[name]:
                next_run[name] = loop.time() + job.every_seconds
                await _run_logged(job.function, ctx)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=tick_seconds)


async def _run_logged(function: Callable[..., Awaitable[Any]], ctx: dict[str, Any]) -> None:
    try:
        await function(ctx)
    except Exception:
        log.exception("cron %s failed", function.__name__)
