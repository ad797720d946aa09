"""The data behind ``benchmarks/web_pages.py``: what ``sla_sweep.load`` COPY-loads, given the history and the
extras the pages show (organisations, tags, satisfaction, one long conversation, a planned field service day).

Set-based SQL over the loaded rows (one ``UPDATE`` of the ticket table, ``INSERT ... SELECT``), so a million
tickets take a minute or two on top of the COPY.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx

ORGANISATIONS = 10
TAGS = ("printer", "vpn", "billing", "onboarding", "hardware")
OPEN_DAYS = 14  # tickets opened in the last two weeks are still open; older ones were closed
CONVERSATION = 40
TECHNICIANS = 4


async def shape(
    dsn: str, now: datetime, tickets: int, due_ids: list[int], *, history_days: int | None
) -> dict[str, float]:
    """Organisations for every customer and their tickets; with ``history_days``, tickets opened over that many
    days (newest ids newest), those older than OPEN_DAYS closed with met or breached SLA clocks (the swept
    "due" tickets stay as loaded); tags on every tenth ticket; ratings on every twentieth closed one."""
    figures: dict[str, float] = {}
    connection = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        # Triggers off while shaping, as for the loader's COPY: the report counters are recounted afterwards
        # (``recount``), as after any bulk load.
        await connection.execute("SET session_replication_role = replica")
        await connection.execute(
            "INSERT INTO organisation (name, domain, shares_tickets, created_at) "
            f"SELECT 'Organisation ' || n, 'org' || n || '.example', false, now() FROM generate_series(1, {ORGANISATIONS}) n"
        )
        first_org = await connection.fetchval("SELECT min(id) FROM organisation")
        await connection.execute(f"UPDATE customer SET organisation_id = {first_org} + id % {ORGANISATIONS}")
        if history_days is None:
            await connection.execute(
                f"UPDATE ticket SET organisation_id = {first_org} + customer_id % {ORGANISATIONS}"
            )
        else:
            spacing = history_days * 86400 / tickets
            closed_before = now - timedelta(days=OPEN_DAYS)
            await connection.execute(
                f"""
                WITH shaped AS (
                    SELECT id,
                        $1::timestamptz - make_interval(secs => ({tickets} - id) * {spacing}) AS opened,
                        id = ANY($3::bigint[]) AS swept
                    FROM ticket
                ), closed AS (
                    SELECT id, opened, NOT swept AND opened < $2 AS closed, swept FROM shaped
                )
                UPDATE ticket t SET
                    organisation_id = {first_org} + t.customer_id % {ORGANISATIONS},
                    created_at = CASE WHEN s.swept THEN t.created_at ELSE s.opened END,
                    updated_at = CASE WHEN s.closed THEN s.opened + interval '3 days'
                        WHEN s.swept THEN t.updated_at ELSE s.opened END,
                    status = CASE WHEN s.closed THEN 'closed' ELSE t.status END,
                    first_responded_at = CASE WHEN s.closed
                        THEN s.opened + make_interval(mins => (5 + t.id % 600)::int) END,
                    resolved_at = CASE WHEN s.closed
                        THEN s.opened + make_interval(mins => (30 + t.id % 4000)::int) END,
                    closed_at = CASE WHEN s.closed THEN s.opened + interval '3 days' END,
                    first_response_due_at = CASE WHEN s.closed THEN NULL ELSE t.first_response_due_at END,
                    next_response_due_at = CASE WHEN s.closed THEN NULL ELSE t.next_response_due_at END,
                    resolution_due_at = CASE WHEN s.closed THEN NULL ELSE t.resolution_due_at END,
                    sla_due_at = CASE WHEN s.closed THEN NULL ELSE t.sla_due_at END,
                    sla_next_escalation_at = CASE WHEN s.closed THEN NULL ELSE t.sla_next_escalation_at END
                FROM closed s WHERE t.id = s.id
                """,
                now,
                closed_before,
                due_ids,
            )
            figures["history_s"] = round(time.perf_counter() - started, 1)
            # The clocks of closed tickets, as the SLA service leaves them: first response met, late (a breach)
            # when it came after four hours; resolution met. Open tickets: their first-response clock running.
            await connection.execute(
                """
                INSERT INTO ticket_sla_target (ticket_id, target, state, target_minutes, clock_started_at,
                    due_at, met_at, breached_at, margin_minutes)
                SELECT id, 'first_response', CASE WHEN late THEN 'breached' ELSE 'met' END, 240, created_at,
                    due, first_responded_at, CASE WHEN late THEN due END, CASE WHEN late THEN -30 ELSE 120 END
                FROM (SELECT id, created_at, first_responded_at, created_at + interval '4 hours' AS due,
                        first_responded_at > created_at + interval '4 hours' AS late
                      FROM ticket WHERE status = 'closed') c
                UNION ALL
                SELECT id, 'resolution', 'met', 4320, created_at, created_at + interval '3 days',
                    resolved_at, NULL, 600
                FROM ticket WHERE status = 'closed'
                UNION ALL
                SELECT id, 'first_response', CASE WHEN first_response_due_at <= $1 THEN 'breached' ELSE 'running' END,
                    240, created_at, first_response_due_at, NULL,
                    CASE WHEN first_response_due_at <= $1 THEN first_response_due_at END, 0
                FROM ticket WHERE status <> 'closed' AND first_response_due_at IS NOT NULL
                """,
                now,
            )
            await connection.execute(
                "INSERT INTO satisfaction_rating (ticket_id, customer_id, score, comment, created_at, updated_at) "
                "SELECT id, customer_id, 1 + id % 5, '', closed_at, closed_at FROM ticket "
                "WHERE status = 'closed' AND id % 20 = 0"
            )
        await connection.execute(
            "INSERT INTO ticket_tag (ticket_id, tag) SELECT id, "
            f"(ARRAY{list(TAGS)!r})[1 + (id / 10) % {len(TAGS)}] FROM ticket WHERE id % 10 = 0"
        )
        await connection.execute("SET session_replication_role = DEFAULT")
        shaped = time.perf_counter()
        await connection.execute("VACUUM ANALYZE")
        figures["shape_s"] = round(shaped - started, 1)
        figures["shape_vacuum_s"] = round(time.perf_counter() - shaped, 1)
    finally:
        await connection.close()
    return figures


async def recount(sa_url: str, now: datetime) -> float:
    """The dashboard's counters recounted from the loaded tickets and clocks (the loader and ``shape`` bypass
    the triggers that keep them); seconds taken."""
    from helpdesk.core.clock import FixedClock
    from helpdesk.core.settings import Settings
    from helpdesk.reports.counts import recount_report_counts
    from helpdesk.runtime import start_runtime

    runtime = await start_runtime(Settings(database_url=sa_url), clock=FixedClock(now), in_process_jobs=True)
    try:
        started = time.perf_counter()
        await recount_report_counts(runtime)
        async with runtime.engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            from sqlalchemy import text

            await autocommit.execute(text("VACUUM ANALYZE report_backlog_count, report_sla_finish_count"))
        return round(time.perf_counter() - started, 1)
    finally:
        await runtime.engine.dispose()


async def conversation(dsn: str, ticket_id: int, now: datetime) -> None:
    """CONVERSATION messages (customer, public replies, internal notes) and their audit on one ticket."""
    connection = await asyncpg.connect(dsn)
    try:
        customer_id, agent_id = await connection.fetchrow(
            "SELECT t.customer_id, (SELECT id FROM staff_user WHERE role = 'agent' ORDER BY id LIMIT 1) "
            "FROM ticket t WHERE t.id = $1",
            ticket_id,
        )
        kinds = ("customer_message", "public_reply", "internal_note")
        await connection.copy_records_to_table(
            "ticket_message",
            records=[
                (
                    ticket_id,
                    kinds[i % 3],
                    "email",
                    None if i % 3 == 0 else agent_id,
                    customer_id if i % 3 == 0 else None,
                    f"Message {i}: the VPN still drops.\n\nOn an earlier day someone wrote:\n> quoted text",
                    "",
                    now - timedelta(hours=CONVERSATION - i),
                )
                for i in range(CONVERSATION)
            ],
            columns=(
                "ticket_id",
                "kind",
                "channel",
                "author_user_id",
                "author_customer_id",
                "body_text",
                "body_html",
                "created_at",
            ),
        )
        await connection.copy_records_to_table(
            "audit_event",
            records=[
                ("ticket", ticket_id, ticket_id, "Agent", agent_id, None, "status", "new", "open", now)
                for _ in range(10)
            ],
            columns=(
                "entity",
                "entity_id",
                "ticket_id",
                "actor",
                "actor_user_id",
                "actor_customer_id",
                "field",
                "old_value",
                "new_value",
                "created_at",
            ),
        )
    finally:
        await connection.close()


async def field_day(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    technician_users: list[int],
    ticket_ids: list[int],
    day: str,
    drain: Callable[[], Awaitable[Any]],
) -> int:
    """TECHNICIANS technicians and a work order on each of ``ticket_ids``, the day planned (the planning job
    drained in-process) and published through the API, as a dispatcher would. Returns the plan id."""
    week = {d: ["07:00-19:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    made = await client.post("/api/v1/dispatch/skills", json={"name": "boiler"}, headers=headers)
    assert made.status_code in (201, 409), made.text
    for n, user_id in enumerate(technician_users):
        body: dict[str, Any] = {
            "user_id": user_id,
            "skills": {"boiler": 2},
            "home_lat": 52.45 + 0.03 * n,
            "home_lon": 13.30 + 0.05 * n,
            "hours": {"timezone": "UTC", "week": week},
        }
        made = await client.post("/api/v1/dispatch/technicians", json=body, headers=headers)
        assert made.status_code == 201, made.text
    for n, ticket_id in enumerate(ticket_ids):
        body = {
            "ticket_id": ticket_id,
            "location": {
                "address": f"Street {n}, Berlin",
                "lat": 52.45 + 0.01 * (n % 12),
                "lon": 13.3 + 0.02 * (n % 7),
            },
            "required_skills": {"boiler": 1},
            "duration_minutes": 45,
        }
        made = await client.post("/api/v1/dispatch/work-orders", json=body, headers=headers)
        assert made.status_code == 201, made.text
    planned = await client.post(
        "/api/v1/dispatch/plans", json={"day": day, "time_limit_seconds": 2}, headers=headers
    )
    assert planned.status_code == 202, planned.text
    plan_id = int(planned.json()["id"])
    await drain()
    published = await client.post(f"/api/v1/dispatch/plans/{plan_id}/publish", headers=headers)
    assert published.status_code == 200, published.text
    await drain()
    return plan_id
