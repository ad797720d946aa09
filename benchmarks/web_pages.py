"""Every main page of the web application on a million-ticket database, as the app serves it (issue #7).

    python benchmarks/web_pages.py [--tickets 1000000] [--repeat 30] [--history-days 1000 | --all-open]
        [--admin-url postgresql://postgres@127.0.0.1:5432/postgres] [--keep | --reuse NAME] [--only TEXT ...]

A scratch PostgreSQL database gets the schema from Alembic and ``--tickets`` tickets from ``sla_sweep.load``
(imported: COPY with the secondary indexes dropped, then indexes and ``VACUUM ANALYZE``). The loader's tickets
are all open and a few hours old; ``web_pages_data.shape`` then gives them a history, as a help desk that has
run for ``--history-days`` looks (opened evenly over that time, all but the last two weeks' closed, with met
or breached SLA clocks and satisfaction ratings); ``--all-open`` keeps the loader's million open tickets (the
worst case for the queues). The dashboard's counters are recounted after loading (the bulk load bypasses their
triggers). Either way: ten organisations, a tag on every tenth ticket, a 40-message
conversation on the ticket whose page is timed, and a field service day planned and published.

Timed: each page through the app in-process (``create_app`` with its lifespan, over ASGI; a fixed clock at
``sla_sweep.NOW``), signed in as the person who uses it (a session cookie): one warm-up request, then
``--repeat``; p50 and p95. Baseline in the same run: a bare indexed ``SELECT`` of one queue page of open
tickets (asyncpg, same database). Target: p95 under 200 ms for every page. The last line is one JSON object;
the scratch database is dropped at the end, also on failure, unless ``--keep``; ``--reuse NAME`` times the pages
again on a database kept by an earlier run (loading takes minutes; people and sessions are added again, the
field service day is planned once).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import sys
import time
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
from sla_sweep import NOW, admin, load
from web_pages_data import CONVERSATION, TECHNICIANS, conversation, field_day, recount, shape

TARGET_MS = 200.0
BASELINE_SQL = (
    "SELECT * FROM ticket WHERE status IN ('new', 'open', 'pending_customer', 'pending_internal') "
    "ORDER BY sla_due_at ASC NULLS LAST, priority, id LIMIT 26"
)


def pages(ticket_id: int, customer_id: int, organisation_id: int, day: str) -> list[tuple[str, str, str]]:
    """(name, who, path) of every page timed."""
    return [
        ("queue: all open", "agent", "/agent"),
        ("queue: mine", "agent", "/agent?view=mine"),
        ("queue: my groups", "agent", "/agent?view=groups"),
        ("queue: unassigned", "agent", "/agent?view=unassigned"),
        ("queue: page 40", "agent", "/agent?page=40"),
        ("filter: status + priority", "agent", "/agent?status=open&priority=P1"),
        ("filter: queue", "agent", "/agent?queue_id=1"),
        ("filter: customer", "agent", f"/agent?customer_id={customer_id}"),
        ("filter: organisation", "agent", f"/agent?organisation_id={organisation_id}"),
        ("filter: tag", "agent", "/agent?tag=printer"),
        ("search: common word", "agent", "/agent?q=vpn"),
        ("search: rare phrase", "agent", "/agent?q=request+777777%3A"),
        ("search: no match", "agent", "/agent?q=scanner+offline"),
        ("search: closed tickets", "agent", "/agent?status=closed&q=request+123456%3A"),
        ("search: reference", "agent", f"/agent?q=HD-{ticket_id}"),
        ("ticket page", "agent", f"/agent/tickets/{ticket_id}"),
        ("portal: my requests", "customer", "/portal/requests"),
        ("dashboard: 30 days", "manager", "/manager"),
        ("dashboard: 365 days", "manager", "/manager?days=365"),
        ("dashboard: organisation", "manager", f"/manager?organisation_id={organisation_id}"),
        *(
            (f"csv: {chart}", "manager", f"/manager/export/{chart}.csv")
            for chart in ("compliance", "alerts", "backlog", "times", "satisfaction", "field", "utilisation")
        ),
        ("technician: today", "technician", "/technician"),
        ("dispatcher: day", "agent", f"/agent/dispatch?day={day}"),
    ]


async def sessions(dsn: str, people: dict[str, tuple[str, int]]) -> dict[str, str]:
    """A browser session per person (``role: ("user" | "customer", id)``), as signing in leaves it."""
    from helpdesk.accounts.security import new_token, token_hash

    connection = await asyncpg.connect(dsn)
    cookies = {}
    try:
        for who, (kind, person_id) in people.items():
            token = new_token()
            await connection.execute(
                "INSERT INTO login_session (token_hash, csrf_token, user_id, customer_id, created_at, expires_at) "
                "VALUES ($1, $2, $3, $4, $5, $6)",
                token_hash(token),
                new_token(),
                person_id if kind == "user" else None,
                person_id if kind == "customer" else None,
                NOW,
                NOW + timedelta(days=30),
            )
            cookies[who] = token
    finally:
        await connection.close()
    return cookies


async def staff(dsn: str, role: str, name: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        user_id: int = await connection.fetchval(
            "INSERT INTO staff_user (email, name, role, password_hash, is_active, language, created_at) "
            "VALUES ($1, $2, $3, NULL, true, 'en', now()) RETURNING id",
            f"{role}-{os.urandom(3).hex()}@example.com",
            name,
            role,
        )
        return user_id
    finally:
        await connection.close()


def percentile(times: list[float], share: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def time_pages(
    client: httpx.AsyncClient, cookies: dict[str, str], plan: list[tuple[str, str, str]], repeat: int
) -> list[dict[str, Any]]:
    results = []
    for name, who, path in plan:
        headers = {"Cookie": f"hd_session={cookies[who]}"}
        first = await client.get(path, headers=headers)
        assert first.status_code == 200, (name, first.status_code, first.text[:500])
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = await client.get(path, headers=headers)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (name, response.status_code)
        p50, p95 = statistics.median(times), percentile(times, 0.95)
        results.append(
            {
                "page": name,
                "path": path,
                "p50_ms": round(p50, 1),
                "p95_ms": round(p95, 1),
                "bytes": len(first.content),
            }
        )
        flag = "" if p95 < TARGET_MS else "  SLOW"
        print(f"  {name:<28} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  {len(first.content):>7} bytes{flag}")
    return results


async def baseline(dsn: str, repeat: int) -> tuple[float, float]:
    connection = await asyncpg.connect(dsn)
    try:
        await connection.fetch(BASELINE_SQL)
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            await connection.fetch(BASELINE_SQL)
            times.append((time.perf_counter() - started) * 1000)
    finally:
        await connection.close()
    return statistics.median(times), percentile(times, 0.95)


async def measure(
    dsn: str, sa_url: str, loaded: dict[str, Any], repeat: int, only: list[str] | None = None
) -> dict[str, Any]:
    from helpdesk.app import create_app
    from helpdesk.core.clock import FixedClock
    from helpdesk.core.settings import Settings

    ticket_id = loaded["due_ids"][-1]
    connection = await asyncpg.connect(dsn)
    try:
        customer_id, organisation_id = await connection.fetchrow(
            "SELECT customer_id, organisation_id FROM ticket WHERE id = $1", ticket_id
        )
        agent_id = loaded["agent_id"]
        newest = [r["id"] for r in await connection.fetch("SELECT id FROM ticket ORDER BY id DESC LIMIT 24")]
    finally:
        await connection.close()
    if not await _has_conversation(dsn, ticket_id):
        await conversation(dsn, ticket_id, NOW)
    manager_id = await staff(dsn, "manager", "Mia Manager")
    admin_id = await staff(dsn, "admin", "Ada Admin")
    # A reused database has its technicians (and their published day) already.
    technicians = await _technicians(dsn) or [
        await staff(dsn, "technician", f"Tech {n}") for n in range(TECHNICIANS)
    ]
    cookies = await sessions(
        dsn,
        {
            "agent": ("user", agent_id),
            "manager": ("user", manager_id),
            "technician": ("user", technicians[0]),
            "customer": ("customer", customer_id),
        },
    )
    settings = Settings(database_url=sa_url, mail_enabled=False, base_url="http://bench.local")
    application = create_app(settings, clock=FixedClock(NOW), in_process_jobs=True, run_crons=False)
    figures: dict[str, Any] = {"load_average_before": [round(x, 2) for x in os.getloadavg()]}
    async with application.lifespan():
        logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request otherwise
        runtime = application.state.runtime
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench.local") as client:
            from helpdesk.accounts.service import AccountService

            _, token = await AccountService(runtime).create_api_token(admin_id, "bench")
            started = time.perf_counter()
            if await _published_plan(dsn, NOW.date()) is None:
                plan_id = await field_day(
                    client,
                    {"Authorization": f"Bearer {token}"},
                    technicians,
                    newest,
                    NOW.date().isoformat(),
                    runtime.queue.drain,
                )
                took = time.perf_counter() - started
                print(f"  field service day: plan {plan_id} planned and published in {took:.1f} s")
            await runtime.queue.drain()
            plan = pages(ticket_id, customer_id, organisation_id, NOW.date().isoformat())
            if only:
                plan = [page for page in plan if any(part in page[0] for part in only)]
            base_p50, base_p95 = await baseline(dsn, repeat)
            print(f"  {'baseline: bare SELECT of a page':<28} p50 {base_p50:7.1f} ms  p95 {base_p95:7.1f} ms")
            figures["baseline_p50_ms"] = round(base_p50, 2)
            figures["baseline_p95_ms"] = round(base_p95, 2)
            figures["pages"] = await time_pages(client, cookies, plan, repeat)
            figures["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
            print(
                f"  load average (1, 5, 15 min): before {figures['load_average_before']}, after "
                f"{figures['load_average_after']}"
            )
        await runtime.queue.drain()
    return figures


async def _has_conversation(dsn: str, ticket_id: int) -> bool:
    connection = await asyncpg.connect(dsn)
    try:
        messages: int = await connection.fetchval(
            "SELECT count(*) FROM ticket_message WHERE ticket_id = $1", ticket_id
        )
        return messages >= CONVERSATION
    finally:
        await connection.close()


async def _technicians(dsn: str) -> list[int]:
    connection = await asyncpg.connect(dsn)
    try:
        return [r["user_id"] for r in await connection.fetch("SELECT user_id FROM technician ORDER BY id")]
    finally:
        await connection.close()


async def _first_agent(dsn: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        agent_id: int = await connection.fetchval("SELECT min(id) FROM staff_user WHERE role = 'agent'")
        return agent_id
    finally:
        await connection.close()


async def _published_plan(dsn: str, day: Any) -> int | None:
    connection = await asyncpg.connect(dsn)
    try:
        plan_id: int | None = await connection.fetchval(
            "SELECT id FROM dispatch_plan WHERE day = $1 AND status = 'published'", day
        )
        return plan_id
    finally:
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument(
        "--due", type=int, default=1000, help="tickets with a stored SLA snapshot (sla_sweep)"
    )
    parser.add_argument("--repeat", type=int, default=30, help="timed requests per page (after one warm-up)")
    parser.add_argument(
        "--history-days", type=int, default=1000, help="days over which the tickets were opened"
    )
    parser.add_argument(
        "--all-open", action="store_true", help="keep the loader's tickets: all open, hours old"
    )
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep", action="store_true", help="leave the scratch database for a look with psql")
    parser.add_argument("--reuse", metavar="NAME", help="time the pages on a database kept by --keep")
    parser.add_argument(
        "--only",
        action="append",
        metavar="TEXT",
        help="time only the pages whose name contains TEXT (repeatable)",
    )
    args = parser.parse_args()

    name = args.reuse or f"bench_web_pages_{os.getpid()}"
    dsn = f"{args.admin_url.rsplit('/', 1)[0]}/{name}"
    sa_url = dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
    data = "all open (as loaded)" if args.all_open else f"opened over {args.history_days} days"
    if args.reuse:
        args.keep = True
    else:
        asyncio.run(admin(args.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        asyncio.run(admin(args.admin_url, f'CREATE DATABASE "{name}"'))
    try:
        from helpdesk.core.migrate import upgrade

        upgrade(sa_url, "heads")
        print(f"Web pages benchmark: {args.tickets:,} tickets, {data}, database {name}")
        started = time.perf_counter()
        if args.reuse:
            step = max(1, args.tickets // max(1, args.due))
            loaded: dict[str, Any] = {"due_ids": [1 + i * step for i in range(min(args.due, args.tickets))]}
            loaded["agent_id"] = asyncio.run(_first_agent(dsn))
            load_s = 0.0
            print("  load: reused")
        else:
            loaded = asyncio.run(load(dsn, args.tickets, args.due))
            history = None if args.all_open else args.history_days
            shaped = asyncio.run(shape(dsn, NOW, args.tickets, loaded["due_ids"], history_days=history))
            recount_s = asyncio.run(recount(sa_url, NOW))
            load_s = time.perf_counter() - started
            print(
                f"  load: {load_s:.1f} s (COPY {loaded['copy_s']} s, indexes {loaded['index_s']} s, "
                f"VACUUM ANALYZE {loaded['vacuum_analyze_s']} s; history and extras {shaped['shape_s']} s, "
                f"VACUUM ANALYZE {shaped['shape_vacuum_s']} s; report counters recounted {recount_s} s)"
            )
        figures = asyncio.run(measure(dsn, sa_url, loaded, args.repeat, args.only))
    finally:
        if args.keep:
            print(f"  kept database {name}")
        else:
            asyncio.run(admin(args.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    slow = [p for p in figures["pages"] if p["p95_ms"] >= TARGET_MS]
    worst = max(figures["pages"], key=lambda p: p["p95_ms"])
    print()
    print(
        f"{len(figures['pages'])} pages; slowest p95 {worst['p95_ms']:.1f} ms ({worst['page']}); baseline p95 "
        f"{figures['baseline_p95_ms']:.1f} ms; target p95 < {TARGET_MS:.0f} ms: "
        + ("met by every page" if not slow else "MISSED by " + ", ".join(p["page"] for p in slow))
    )
    summary = {
        "benchmark": "web_pages",
        "tickets": args.tickets,
        "data": "all_open" if args.all_open else f"history_{args.history_days}_days",
        "repeat": args.repeat,
        "load_s": round(load_s, 1),
        "target_p95_ms": TARGET_MS,
        "target_met": not slow,
        "slow_pages": [p["page"] for p in slow],
        **figures,
    }
    print(json.dumps(summary))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
