"""The SLA escalation sweep and the agents' queue page over a million open tickets (issue #4).

    python benchmarks/sla_sweep.py [--tickets 1000000] [--due 1000] [--repeat 7]
        [--admin-url postgresql://postgres@127.0.0.1:5432/postgres]

Creates a scratch PostgreSQL database with the schema from Alembic, drops the ticket table's secondary
indexes, bulk-loads ``--tickets`` open tickets with ``COPY`` (asyncpg ``copy_records_to_table``), rebuilds the
indexes and runs ``VACUUM ANALYZE`` (what autovacuum would have done on a live system). ``--due`` of them,
spread over the whole id range, were opened two days before "now" (a fixed Tuesday afternoon) under the
default business-hours policy and are stored exactly as the product stored them at creation: deadline
columns from ``sla.rules.evaluate_sla`` at the creation time, a ``ticket_sla`` snapshot, and the customer's
first message. Their first-response warning and breach have come, so ``sla_next_escalation_at <= now`` and
the sweep really evaluates and fires two levels per ticket (mails to the assignee or the queue, to the
managers, an internal note). The other tickets are younger, with deadlines and escalations still ahead; only
the swept tickets get a snapshot, since the sweep reads snapshots by primary key and nothing else does.

Measured in the same run:
- one sweep: ``helpdesk.tickets.escalation.escalate_overdue`` with a ``Runtime`` from ``start_runtime`` and a
  ``FixedClock``, against a bare indexed ``SELECT`` of the same due ids by ``sla_next_escalation_at``;
- the agents' queue page: ``TicketQueries.list_tickets`` as an agent, 50 rows sorted by ``sla_due_at``,
  against a bare ``SELECT`` of the same 50 rows (median of ``--repeat``).

Targets: sweep < 200 ms, queue page < 50 ms. The last line is one JSON object. The scratch database is
dropped at the end, also on failure.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

SWEEP_TARGET_MS = 200.0
PAGE_TARGET_MS = 50.0
PAGE_SIZE = 50
CUSTOMERS = 100
# A Tuesday afternoon; the due tickets were opened on the Sunday before, so their first-response clock ran
# all of Monday's business hours: warning at 15:00, breach at 17:00.
NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
DUE_OPENED_AT = NOW - timedelta(days=2)
PRIORITIES = ("P1", "P2", "P3", "P4")

TICKET_COLUMNS = (
    "id",
    "subject",
    "status",
    "priority",
    "channel",
    "queue_id",
    "assignee_id",
    "customer_id",
    "organisation_id",
    "tracking_token",
    "version",
    "created_at",
    "updated_at",
    "first_response_due_at",
    "next_response_due_at",
    "resolution_due_at",
    "sla_due_at",
    "sla_next_escalation_at",
)


async def admin(admin_url: str, sql: str) -> None:
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def due_columns(priority: str) -> dict[str, Any]:
    """What the product stored for a due ticket when it was opened (refresh_sla at creation)."""
    import msgspec

    from sla.calendar import CalendarSpec, calendar_from_spec
    from sla.defaults import DEFAULT_CALENDAR, DEFAULT_POLICY
    from sla.rules import SlaPolicy, TicketTimeline, evaluate_sla

    policy = msgspec.convert(DEFAULT_POLICY, SlaPolicy)
    calendar = calendar_from_spec(msgspec.convert(DEFAULT_CALENDAR, CalendarSpec))
    timeline = TicketTimeline(
        created_at=DUE_OPENED_AT,
        priority=priority,
        initial_status="new",
        status_changes=(),
        customer_messages=(),
        agent_public_replies=(),
    )
    status = evaluate_sla(policy, calendar, timeline, DUE_OPENED_AT, notification_calendar=calendar)
    next_escalation = min((s.notify_at for s in status.escalations), default=None)
    assert next_escalation is not None
    assert next_escalation <= NOW, (priority, next_escalation)
    return {
        "first_response_due_at": status.first_response_due_at,
        "next_response_due_at": status.next_response_due_at,
        "resolution_due_at": status.resolution_due_at,
        "sla_due_at": status.sla_due_at,
        "sla_next_escalation_at": next_escalation,
        # The steps the product schedules at the same moment (sla_scheduled_step rows).
        "steps": [
            (s.target.value, s.level, s.clock_started_at, s.at, s.notify_at) for s in status.escalations
        ],
    }


async def load(dsn: str, tickets: int, due: int) -> dict[str, Any]:
    """Reference rows, then COPY the tickets with the secondary indexes dropped, then index and analyse."""
    from sla.defaults import DEFAULT_ACTIONS, DEFAULT_CALENDAR, DEFAULT_POLICY

    figures: dict[str, Any] = {}
    connection = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        await connection.execute(
            """
            INSERT INTO staff_group (name, email, created_at) VALUES ('Support', NULL, now());
            INSERT INTO staff_user (email, name, role, password_hash, is_active, language, created_at) VALUES
              ('agent@example.com', 'Agent', 'agent', NULL, true, 'en', now()),
              ('manager@example.com', 'Manager', 'manager', NULL, true, 'en', now());
            INSERT INTO group_member (group_id, user_id) SELECT 1, id FROM staff_user WHERE role = 'agent';
            """
        )
        await connection.execute(
            "INSERT INTO customer (email, name, organisation_id, language, created_at) "
            "SELECT 'customer' || n || '@example.com', 'Customer ' || n, NULL, 'en', now() "
            f"FROM generate_series(1, {CUSTOMERS}) AS n"
        )
        await connection.execute(
            "INSERT INTO sla_calendar (name, spec, created_at, updated_at) VALUES ('Office', $1, now(), now())",
            json.dumps(DEFAULT_CALENDAR),
        )
        await connection.execute(
            "INSERT INTO sla_policy (name, calendar_id, spec, actions, notify_any_hour, is_default, version, "
            "created_at, updated_at) VALUES ('Standard', 1, $1, $2, false, true, 1, now(), now())",
            json.dumps(DEFAULT_POLICY),
            json.dumps(DEFAULT_ACTIONS),
        )
        agent_id = await connection.fetchval("SELECT id FROM staff_user WHERE role = 'agent'")

        indexes = await connection.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'ticket' AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint WHERE conrelid = 'ticket'::regclass)"
        )
        unique = await connection.fetch(
            "SELECT conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint "
            "WHERE conrelid = 'ticket'::regclass AND contype = 'u'"
        )
        for row in indexes:
            await connection.execute(f'DROP INDEX "{row["indexname"]}"')
        for row in unique:
            await connection.execute(f'ALTER TABLE ticket DROP CONSTRAINT "{row["conname"]}"')

        step = max(1, tickets // max(1, due))
        due_ids = [1 + i * step for i in range(min(due, tickets))]
        due_set = set(due_ids)
        due_by_priority = {p: due_columns(p) for p in PRIORITIES}

        def records() -> Any:
            for ticket_id in range(1, tickets + 1):
                priority = PRIORITIES[ticket_id % 4]
                assignee = agent_id if ticket_id % 3 == 0 else None
                if ticket_id in due_set:
                    created = DUE_OPENED_AT
                    deadlines = due_by_priority[priority]
                    columns = (
                        deadlines["first_response_due_at"],
                        deadlines["next_response_due_at"],
                        deadlines["resolution_due_at"],
                        deadlines["sla_due_at"],
                        deadlines["sla_next_escalation_at"],
                    )
                else:
                    # Younger tickets: every deadline and escalation still ahead of "now".
                    created = NOW - timedelta(minutes=ticket_id % 240)
                    first = NOW + timedelta(minutes=30 + ticket_id % 5000)
                    resolution = first + timedelta(days=2)
                    columns = (first, None, resolution, first, first - timedelta(minutes=15))
                yield (
                    ticket_id,
                    f"Request {ticket_id}: the VPN drops every few minutes",
                    "open" if ticket_id % 2 else "new",
                    priority,
                    "email",
                    1,
                    assignee,
                    1 + ticket_id % CUSTOMERS,
                    None,
                    f"bench-{ticket_id}",
                    1,
                    created,
                    created,
                    *columns,
                )

        # Referential checks are skipped during the bulk load (the rows reference existing ids).
        await connection.execute("SET session_replication_role = replica")
        await connection.copy_records_to_table("ticket", records=records(), columns=TICKET_COLUMNS)
        spec = (json.dumps(DEFAULT_POLICY), json.dumps(DEFAULT_CALENDAR), json.dumps(DEFAULT_ACTIONS))
        await connection.copy_records_to_table(
            "ticket_sla",
            records=[(i, 1, 1, None, *spec, False, DUE_OPENED_AT) for i in due_ids],
            columns=(
                "ticket_id",
                "policy_id",
                "policy_version",
                "contract_id",
                "policy_spec",
                "calendar_spec",
                "actions",
                "notify_any_hour",
                "assigned_at",
            ),
        )
        await connection.copy_records_to_table(
            "sla_scheduled_step",
            records=[(i, *step) for i in due_ids for step in due_by_priority[PRIORITIES[i % 4]]["steps"]],
            columns=("ticket_id", "target", "level", "clock_started_at", "at", "notify_at"),
        )
        await connection.copy_records_to_table(
            "ticket_message",
            records=[
                (
                    i,
                    "customer_message",
                    "email",
                    None,
                    1 + i % CUSTOMERS,
                    "The VPN drops every few minutes.",
                    "",
                    DUE_OPENED_AT,
                )
                for i in due_ids
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
        await connection.execute("SET session_replication_role = DEFAULT")
        await connection.execute(f"SELECT setval(pg_get_serial_sequence('ticket', 'id'), {tickets})")
        copied = time.perf_counter()
        for row in unique:
            await connection.execute(
                f'ALTER TABLE ticket ADD CONSTRAINT "{row["conname"]}" {row["definition"]}'
            )
        for row in indexes:
            await connection.execute(row["indexdef"])
        indexed = time.perf_counter()
        await connection.execute("VACUUM ANALYZE")
        figures["copy_s"] = round(copied - started, 2)
        figures["index_s"] = round(indexed - copied, 2)
        figures["vacuum_analyze_s"] = round(time.perf_counter() - indexed, 2)
        figures["agent_id"] = agent_id
        figures["due_ids"] = due_ids
    finally:
        await connection.close()
    return figures


async def timed(call: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = await call()
    return (time.perf_counter() - started) * 1000, result


async def median_ms(call: Callable[[], Awaitable[Any]], repeat: int) -> tuple[float, list[float], Any]:
    times = []
    result = None
    for _ in range(repeat):
        ms, result = await timed(call)
        times.append(ms)
    return statistics.median(times), times, result


async def explain(connection: asyncpg.Connection, sql: str, *args: Any) -> str:
    rows = await connection.fetch(f"EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) {sql}", *args)
    return "\n".join("      " + r[0] for r in rows)


async def measure(
    dsn: str, sa_url: str, agent_id: int, due: int, repeat: int, profile: bool
) -> dict[str, Any]:
    from helpdesk.accounts.principal import Principal, Role
    from helpdesk.core.clock import FixedClock
    from helpdesk.core.settings import Settings
    from helpdesk.runtime import start_runtime, stop_runtime
    from helpdesk.tickets.escalation import escalate_overdue
    from helpdesk.tickets.queries import TicketQueries
    from helpdesk.tickets.schemas import TicketFilters

    # The sweep claims due steps by notify_at; the baseline reads the same rows by the same index.
    due_sql = "SELECT ticket_id, target, level FROM sla_scheduled_step WHERE notify_at <= $1 ORDER BY notify_at LIMIT $2"
    page_sql = "SELECT * FROM ticket ORDER BY sla_due_at ASC NULLS LAST, priority, id LIMIT " + str(PAGE_SIZE)
    figures: dict[str, Any] = {}
    connection = await asyncpg.connect(dsn)
    runtime = await start_runtime(
        Settings(database_url=sa_url, mail_enabled=False), clock=FixedClock(NOW), in_process_jobs=True
    )
    try:
        # The baseline of the sweep: the due ids by the indexed column, nothing else.
        base_ms, base_times, due_rows = await median_ms(lambda: connection.fetch(due_sql, NOW, due), repeat)
        print(f"  baseline due SELECT ({len(due_rows)} ids): median {base_ms:.1f} ms of {_fmt(base_times)}")
        print(await explain(connection, due_sql, NOW, due))

        profiler = cProfile.Profile() if profile else None
        statements = count_statements(runtime.engine) if profile else None
        if profiler is not None:
            profiler.enable()
        sweep_ms, fired = await timed(lambda: escalate_overdue(runtime))
        if profiler is not None:
            profiler.disable()
            assert statements is not None
            print(f"  {sum(n for n, _ in statements.values())} statements:", file=sys.stderr)
            for text, (n, seconds) in sorted(statements.items(), key=lambda kv: -kv[1][1]):
                print(f"    {n:6} {seconds * 1000:8.1f} ms  {text}", file=sys.stderr)
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(
                r"(helpdesk|sla)/", 40
            )
        # The fired levels' actions (notifications, notes) run as jobs after the sweep; timed apart from it.
        actions_s, _ = await timed(lambda: runtime.queue.drain(900))  # type: ignore[attr-defined]
        print(f"  level actions drained in {actions_s / 1000:.1f} s (background jobs, not part of the sweep)")
        figures["actions_drain_s"] = round(actions_s / 1000, 1)
        left = await connection.fetchval(
            "SELECT count(*) FROM ticket WHERE sla_next_escalation_at <= $1", NOW
        )
        mails = await connection.fetchval("SELECT count(*) FROM outgoing_mail")
        print(
            f"  escalate_overdue: {sweep_ms:.1f} ms, {fired} levels fired, {mails} mails queued, "
            f"{left} tickets still due afterwards"
        )
        figures["baseline_due_select_ms"] = round(base_ms, 2)
        figures["sweep_ms"] = round(sweep_ms, 2)
        figures["sweep_fired"] = fired
        figures["sweep_mails"] = mails
        figures["sweep_left_due"] = left

        page_base_ms, page_base_times, _ = await median_ms(lambda: connection.fetch(page_sql), repeat)
        print(
            f"  baseline page SELECT ({PAGE_SIZE} rows): median {page_base_ms:.1f} ms of {_fmt(page_base_times)}"
        )
        print(await explain(connection, page_sql))
        agent = Principal(user_id=agent_id, role=Role.AGENT, name="Agent")
        queries = TicketQueries(runtime)
        page_ms, page_times, page = await median_ms(
            lambda: queries.list_tickets(agent, TicketFilters(), limit=PAGE_SIZE), repeat
        )
        expected = [r["id"] for r in await connection.fetch(page_sql)]
        same = [t.id for t in page.items] == expected
        print(
            f"  list_tickets as agent ({len(page.items)} rows, total {page.total}, same rows as baseline: "
            f"{same}): median {page_ms:.1f} ms of {_fmt(page_times)}"
        )
        figures["baseline_page_select_ms"] = round(page_base_ms, 2)
        figures["page_ms"] = round(page_ms, 2)
        figures["page_total"] = page.total
        figures["page_same_rows"] = same
    finally:
        await stop_runtime(runtime)
        await connection.close()
    return figures


def count_statements(engine: Any) -> dict[str, list[float]]:
    """Statements the engine sends, by their first words, with their count and time (for --profile)."""
    from sqlalchemy import event

    counts: dict[str, list[float]] = {}

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        entry = counts.setdefault(" ".join(statement.split())[:90], [0, 0.0])
        entry[0] += 1
        entry[1] += time.perf_counter() - conn.info.pop("bench_started", time.perf_counter())

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    event.listen(engine.sync_engine, "after_cursor_execute", after)
    return counts


def _fmt(times: list[float]) -> str:
    return "[" + ", ".join(f"{t:.1f}" for t in times) + "]"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7, help="runs of each read-only query (median)")
    parser.add_argument("--profile", action="store_true", help="cProfile the sweep (to stderr; slows it)")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    name = f"bench_sla_sweep_{os.getpid()}"
    base = args.admin_url.rsplit("/", 1)[0]
    dsn = f"{base}/{name}"
    sa_url = dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
    asyncio.run(admin(args.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(admin(args.admin_url, f'CREATE DATABASE "{name}"'))
    try:
        from helpdesk.core.migrate import upgrade

        upgrade(sa_url, "heads")
        print(f"SLA sweep benchmark: {args.tickets:,} open tickets, {args.due:,} due, database {name}")
        started = time.perf_counter()
        loaded = asyncio.run(load(dsn, args.tickets, args.due))
        load_s = time.perf_counter() - started
        print(
            f"  load: {load_s:.1f} s (COPY {loaded['copy_s']} s, indexes {loaded['index_s']} s, "
            f"VACUUM ANALYZE {loaded['vacuum_analyze_s']} s)"
        )
        figures = asyncio.run(measure(dsn, sa_url, loaded["agent_id"], args.due, args.repeat, args.profile))
    finally:
        asyncio.run(admin(args.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    sweep_ok = figures["sweep_ms"] < SWEEP_TARGET_MS
    page_ok = figures["page_ms"] < PAGE_TARGET_MS
    print()
    print(f"{'':<28}{'helpdesk':>12}{'baseline':>12}{'target':>10}")
    print(
        f"{'sweep of ' + str(args.due) + ' due tickets':<28}{figures['sweep_ms']:>10.1f}ms"
        f"{figures['baseline_due_select_ms']:>10.1f}ms{'< ' + str(int(SWEEP_TARGET_MS)) + ' ms':>10}"
        f"  {'met' if sweep_ok else 'MISSED'}"
    )
    print(
        f"{'queue page (' + str(PAGE_SIZE) + ' rows)':<28}{figures['page_ms']:>10.1f}ms"
        f"{figures['baseline_page_select_ms']:>10.1f}ms{'< ' + str(int(PAGE_TARGET_MS)) + ' ms':>10}"
        f"  {'met' if page_ok else 'MISSED'}"
    )
    summary = {
        "benchmark": "sla_sweep",
        "tickets": args.tickets,
        "due": args.due,
        "load_s": round(load_s, 2),
        **{k: v for k, v in loaded.items() if k not in ("agent_id", "due_ids")},
        **figures,
        "sweep_target_ms": SWEEP_TARGET_MS,
        "page_target_ms": PAGE_TARGET_MS,
        "sweep_target_met": sweep_ok,
        "page_target_met": page_ok,
    }
    print(json.dumps(summary))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
