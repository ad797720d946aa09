"""Ticket intake over HTTP against a bare Litestar + asyncpg baseline (issue #2).

    python benchmarks/intake.py [--duration 10] [--rounds 4] [--concurrency 1 32] [--workers 1]
        [--admin-url postgresql://postgres@127.0.0.1:5432/postgres]

Creates a scratch PostgreSQL database, migrates it with the product's Alembic path, creates an agent and an
API token through ``AccountService`` and 200 customers, then starts ``helpdesk serve`` and drives
``POST /api/v1/tickets`` (an agent opening a ticket on a customer's behalf, the integration path) with an
``httpx.AsyncClient`` (keep-alive, one connection per concurrent caller) for ``--duration`` seconds at each
concurrency. In the same run it starts a minimal Litestar app (``baseline_app`` below: one handler, one
asyncpg INSERT of the same columns into a table of the ticket table's shape) under the same uvicorn with the
same worker count and drives it with the same client loop, the two taking turns (``--rounds``). Prints
tickets/s, p50/p99 latency and the ratio to the baseline; the last line is one JSON object. The scratch database is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
CUSTOMERS = 200
TARGET_RATIO = 0.5
WARMUP_SECONDS = 1.0

# The columns the product writes when it opens a ticket (the rest are NULL or filled later by the SLA).
INSERT_BARE = """
INSERT INTO bench_ticket (subject, status, priority, channel, customer_id, organisation_id,
                          tracking_token, version, created_at, updated_at)
VALUES ($1, 'new', 'P3', 'api', $2, NULL, $3, 1, $4, $4)
RETURNING id
"""


# -- the baseline app (imported by uvicorn in its own process) ------------------------------------------
class BareTicketCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    subject: str
    description: str
    customer_id: int


def baseline_app() -> Any:
    """One handler, one asyncpg INSERT: the floor that any ticket creation path stands on."""
    from litestar import Litestar, post

    pool_holder: dict[str, asyncpg.Pool] = {}

    @contextlib.asynccontextmanager
    async def lifespan(_app: Litestar) -> AsyncIterator[None]:
        # Same pool size as the product's engine (helpdesk.core.db.create_engine).
        pool = await asyncpg.create_pool(os.environ["BENCH_BASELINE_DSN"], min_size=1, max_size=10)
        pool_holder["pool"] = pool
        try:
            yield
        finally:
            await pool.close()

    @post("/api/v1/tickets")
    async def create_ticket(data: BareTicketCreate) -> dict[str, Any]:
        now = datetime.now(UTC)
        token = secrets.token_urlsafe(32)
        ticket_id = await pool_holder["pool"].fetchval(
            INSERT_BARE, " ".join(data.subject.split())[:300], data.customer_id, token, now
        )
        return {"id": ticket_id, "reference": f"HD-{ticket_id}", "status": "new", "created_at": now}

    return Litestar(route_handlers=[create_ticket], lifespan=[lifespan])


# -- scratch database -----------------------------------------------------------------------------------
@contextlib.contextmanager
def scratch_database(admin_url: str, name: str) -> Iterator[str]:
    async def run(sql: str) -> None:
        connection = await asyncpg.connect(admin_url)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    base = admin_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextlib.contextmanager
def scratch_redis(url: str) -> Iterator[None]:
    """The queued jobs are the workers' work, not intake's: dropped afterwards (only this run's Redis db)."""
    try:
        yield
    finally:
        if url:
            import redis

            client = redis.Redis.from_url(url)
            keys = list(client.scan_iter("arq:*"))
            if keys:
                client.delete(*keys)
            client.close()


async def prepare(dsn: str, settings_env: dict[str, str]) -> tuple[str, list[int], list[str]]:
    """Schema, an agent with an API token, customers, and the baseline's table of the ticket's shape."""
    from helpdesk.accounts.service import AccountService
    from helpdesk.core.settings import Settings
    from helpdesk.runtime import start_runtime, stop_runtime

    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(
            "INSERT INTO customer (email, name, organisation_id, language, created_at) "
            "SELECT 'customer' || n || '@example.com', 'Customer ' || n, NULL, 'en', now() "
            f"FROM generate_series(1, {CUSTOMERS}) AS n"
        )
        rows = await connection.fetch("SELECT id, email FROM customer ORDER BY id")
        # Same columns, types, defaults, identity and indexes as the product's table; no foreign keys.
        await connection.execute("CREATE TABLE bench_ticket (LIKE ticket INCLUDING ALL)")
    finally:
        await connection.close()
    runtime = await start_runtime(Settings.from_env(settings_env), in_process_jobs=True)
    try:
        accounts = AccountService(runtime)
        user = await accounts.create_user(
            email="bench-agent@example.com", name="Bench Agent", role="agent", password=None
        )
        _, token = await accounts.create_api_token(user.id, "intake benchmark")
    finally:
        await stop_runtime(runtime)
    return token, [r["id"] for r in rows], [r["email"] for r in rows]


# -- servers --------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def process_tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its live descendants (uvicorn's worker processes), from /proc;
    0.0 where /proc is missing. CPU per ticket does not depend on how busy the machine is, throughput does."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total, pending = 0.0, [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(child) for child in (task / "children").read_text().split())
        except (OSError, ValueError, IndexError):
            continue
    return total


@dataclass
class Server:
    url: str
    pid: int

    def cpu_seconds(self) -> float:
        return process_tree_cpu_seconds(self.pid)


@contextlib.contextmanager
def server(command: list[str], env: dict[str, str], port: int) -> Iterator[Server]:
    log = open(ROOT / f".bench-intake-{port}.log", "w+b")  # noqa: SIM115 - closed below
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"server exited: {log.read().decode(errors='replace')[-2000:]}")
            try:
                httpx.get(f"{url}/", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not start within 30 s") from None
                time.sleep(0.2)
        yield Server(url, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.seek(0)
        errors = [line for line in log.read().decode(errors="replace").splitlines() if "Traceback" in line]
        log.close()
        (ROOT / f".bench-intake-{port}.log").unlink(missing_ok=True)
        if errors:
            print(f"  (server logged {len(errors)} tracebacks)", file=sys.stderr)


# -- the client loop ------------------------------------------------------------------------------------
@dataclass
class Run:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    server_cpu_seconds: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def server_cpu_ms(self) -> float:
        """The server's CPU time per ticket (its own work; the database's and the client's are not in it)."""
        return self.server_cpu_seconds * 1000 / self.requests if self.requests else float("nan")

    def joined(self, other: Run) -> Run:
        return Run(
            self.requests + other.requests,
            self.errors + other.errors,
            self.seconds + other.seconds,
            self.latencies_ms + other.latencies_ms,
            self.server_cpu_seconds + other.server_cpu_seconds,
        )

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def drive(
    server: Server,
    headers: dict[str, str],
    bodies: list[dict[str, Any]],
    concurrency: int,
    duration: float,
    warmup: float,
) -> Run:
    """``concurrency`` callers, each posting one ticket after the other on its own keep-alive connection."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=server.url, headers=headers, limits=limits, timeout=60) as client:
        latencies: list[float] = []
        counts = {"ok": 0, "errors": 0}
        first_error: list[str] = []
        measuring = False

        async def caller(index: int, stop_at: float) -> None:
            n = index
            while time.perf_counter() < stop_at:
                body = bodies[n % len(bodies)]
                n += concurrency
                started = time.perf_counter()
                response = await client.post("/api/v1/tickets", json=body)
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 201:
                    counts["errors"] += 1
                    if not first_error:
                        first_error.append(f"{response.status_code} {response.text[:300]}")
                    continue
                if measuring:
                    counts["ok"] += 1
                    latencies.append(elapsed)

        warm_until = time.perf_counter() + warmup
        await asyncio.gather(*(caller(i, warm_until) for i in range(concurrency)))
        measuring = True
        counts["errors"] = 0
        cpu_before = server.cpu_seconds()
        started = time.perf_counter()
        await asyncio.gather(*(caller(i, started + duration) for i in range(concurrency)))
        seconds = time.perf_counter() - started
        cpu = server.cpu_seconds() - cpu_before
    if first_error:
        print(f"  first error: {first_error[0]}", file=sys.stderr)
    return Run(counts["ok"], counts["errors"], seconds, latencies, cpu)


def bodies_for(customer_ids: list[int], customer_emails: list[str], *, product: bool) -> list[dict[str, Any]]:
    bodies = []
    for n, (customer_id, email) in enumerate(zip(customer_ids, customer_emails, strict=True)):
        body: dict[str, Any] = {
            "subject": f"Printer on floor {n % 7} jams on every second page",
            "description": "Since this morning the printer stops after one page and shows error E-42. "
            "Restarting did not help.",
        }
        # The agent names the customer by e-mail, as on a phone call; the baseline stores the id it gets.
        if product:
            body["customer_email"] = email
        else:
            body["customer_id"] = customer_id
        bodies.append(body)
    return bodies


@dataclass
class Side:
    """One of the two servers measured, with what its callers send."""

    label: str
    server: Server
    headers: dict[str, str]
    bodies: list[dict[str, Any]]

    def measure(self, concurrency: int, duration: float, warmup: float) -> Run:
        return asyncio.run(drive(self.server, self.headers, self.bodies, concurrency, duration, warmup))


def report(label: str, concurrency: int, run: Run) -> None:
    print(
        f"  {label:<9} c={concurrency:<3} {run.per_second:8.1f} tickets/s   p50 {run.percentile(0.5):7.1f} ms"
        f"   p99 {run.percentile(0.99):7.1f} ms   server CPU {run.server_cpu_ms:5.2f} ms/ticket"
        f"   ({run.requests} ok, {run.errors} errors)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured per concurrency")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (both servers)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=4,
        help="each concurrency's duration is measured in this many turns, helpdesk and baseline alternating, "
        "so that a slow spell of a shared machine falls on both sides alike",
    )
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/14",
        help="the production path: background jobs (acknowledgement mail, KB suggestions) are queued in Redis "
        "for worker processes instead of running inside the API process; '' for the embedded in-process mode",
    )
    args = parser.parse_args()

    name = f"bench_intake_{os.getpid()}"
    with scratch_database(args.admin_url, name) as dsn, scratch_redis(args.redis_url):
        sa_url = dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
        env = {
            **os.environ,
            "HELPDESK_DATABASE_URL": sa_url,
            "HELPDESK_PUBLIC_TICKET_RATE_PER_MINUTE": "1000000",
            "HELPDESK_LOGIN_RATE_PER_MINUTE": "1000000",
            "HELPDESK_MAGIC_LINK_RATE_PER_MINUTE": "1000000",
            "HELPDESK_MAIL_ENABLED": "false",
            "BENCH_BASELINE_DSN": dsn,
        }
        env.pop("HELPDESK_REDIS_URL", None)
        if args.redis_url:
            env["HELPDESK_REDIS_URL"] = args.redis_url
        from helpdesk.core.migrate import upgrade

        upgrade(sa_url, "heads")
        helpdesk_env = {k: v for k, v in env.items() if k.startswith("HELPDESK_")}
        token, customer_ids, emails = asyncio.run(prepare(dsn, helpdesk_env))
        print(
            f"intake benchmark: {args.duration:g} s per concurrency in {args.rounds} turns each side "
            f"after {WARMUP_SECONDS:g} s warm-up, "
            f"{args.workers} uvicorn worker(s), PostgreSQL database {name}, {CUSTOMERS} customers"
        )

        product_port, baseline_port = free_port(), free_port()
        product_cmd = [
            str(VENV_BIN / "helpdesk"),
            "serve",
            "--port",
            str(product_port),
            "--workers",
            str(args.workers),
        ]
        baseline_cmd = [
            str(VENV_BIN / "uvicorn"),
            "intake:baseline_app",
            "--factory",
            "--app-dir",
            str(ROOT / "benchmarks"),
            "--port",
            str(baseline_port),
            "--workers",
            str(args.workers),
            "--no-access-log",
            "--log-level",
            "info",
        ]
        product_bodies = bodies_for(customer_ids, emails, product=True)
        baseline_bodies = bodies_for(customer_ids, emails, product=False)
        runs: dict[str, dict[int, Run]] = {"helpdesk": {}, "baseline": {}}
        # Both servers stay up and each concurrency measures one right after the other, so that load from
        # other processes on a shared machine falls on both sides alike.
        with (
            server(product_cmd, env, product_port) as product_server,
            server(baseline_cmd, env, baseline_port) as baseline_server,
        ):
            ours = Side("helpdesk", product_server, {"Authorization": f"Bearer {token}"}, product_bodies)
            bare = Side("baseline", baseline_server, {}, baseline_bodies)
            for concurrency in args.concurrency:
                turn = args.duration / args.rounds
                for round_number in range(args.rounds):
                    # A full warm-up once (connections, caches), a short one before later turns.
                    warmup = WARMUP_SECONDS if round_number == 0 else WARMUP_SECONDS / 4
                    # Who goes first alternates: what one side leaves the database to do (WAL, vacuum)
                    # slows whoever comes next, and that should fall on both sides alike.
                    for side in (ours, bare) if round_number % 2 == 0 else (bare, ours):
                        run = side.measure(concurrency, turn, warmup)
                        done = runs[side.label].get(concurrency)
                        runs[side.label][concurrency] = done.joined(run) if done else run
                for side in (ours, bare):
                    report(side.label, concurrency, runs[side.label][concurrency])
        product, baseline = runs["helpdesk"], runs["baseline"]

    figures: dict[str, Any] = {
        "benchmark": "intake",
        "duration_s": args.duration,
        "rounds": args.rounds,
        "workers": args.workers,
    }
    print()
    print(
        f"{'concurrency':>11} {'helpdesk/s':>11} {'baseline/s':>11} {'ratio':>7}   p50 / p99 ms (helpdesk, baseline)"
    )
    for concurrency in args.concurrency:
        ours, bare = product[concurrency], baseline[concurrency]
        ratio = ours.per_second / bare.per_second if bare.per_second else 0.0
        print(
            f"{concurrency:>11} {ours.per_second:>11.1f} {bare.per_second:>11.1f} {ratio:>7.3f}   "
            f"{ours.percentile(0.5):.1f} / {ours.percentile(0.99):.1f}, "
            f"{bare.percentile(0.5):.1f} / {bare.percentile(0.99):.1f}"
        )
        figures[f"c{concurrency}"] = {
            "helpdesk_per_s": round(ours.per_second, 1),
            "helpdesk_p50_ms": round(ours.percentile(0.5), 2),
            "helpdesk_p99_ms": round(ours.percentile(0.99), 2),
            "helpdesk_errors": ours.errors,
            "helpdesk_server_cpu_ms": round(ours.server_cpu_ms, 2),
            "baseline_per_s": round(bare.per_second, 1),
            "baseline_p50_ms": round(bare.percentile(0.5), 2),
            "baseline_p99_ms": round(bare.percentile(0.99), 2),
            "baseline_errors": bare.errors,
            "baseline_server_cpu_ms": round(bare.server_cpu_ms, 2),
            "ratio": round(ratio, 3),
        }
    top = max(args.concurrency)
    met = figures[f"c{top}"]["ratio"] >= TARGET_RATIO
    figures["target_ratio"] = TARGET_RATIO
    figures["target_met"] = met
    print(f"target: ratio >= {TARGET_RATIO} at concurrency {top}: {'met' if met else 'MISSED'}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
