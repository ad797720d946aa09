"""Inbound mail throughput per process on a fresh PostgreSQL database: parse + thread + store.

Generates a deterministic mixed corpus (plain, HTML, attachments, replies threading to earlier mails) and
runs it through the product's own code in this one process, against a baseline measured in the same run:
parsing alone with the standard library's ``email`` parser.

What is measured, stage by stage:
- receive: ``MailService.store`` per mail (raw row, one transaction each), as the SMTP listener, the pipe
  and the HTTP endpoint store what arrives;
- process: ``MailService.process_batch`` over ``BATCH_SIZE`` ids per transaction: parse + thread + store
  (tickets, messages, files, SLA, audit, the acknowledgement mail and the jobs that follow up, all in the
  outbox). This is the issue's target figure, ``mails_per_s``.
The follow-up jobs a new ticket queues (sending the acknowledgement, knowledge-base suggestions) are not
parse + thread + store: in production they go through Redis to any worker. So they are queued as in
production (an arq queue on a scratch Redis database, ``--redis-url``; the enqueueing is part of the
process time) and run only afterwards, by an arq worker in this process, reported apart ("follow-up jobs").
With ``--redis-url ''`` the embedded in-process queue is used, held until that same drain step.
The one-mail path (``store`` then ``process`` per mail) runs on part of the corpus on its own database.
Other work on the machine slows every figure down, so the load average is printed, and so is the CPU time
this process spent per processed mail (the database and Redis servers not counted).
People-readable figures first; the last line is one JSON object with the same figures.

    .venv/bin/python benchmarks/mail_ingest.py [--mails 3000] [--database-url postgresql+asyncpg://...]
        [--redis-url redis://127.0.0.1:6379/13]
"""

from __future__ import annotations

import argparse
import asyncio
import email
import json
import os
import random
import secrets
import statistics
import time
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from helpdesk.channels.email.models import InboundSource
from helpdesk.channels.email.parser import parse_message
from helpdesk.channels.email.service import BATCH_SIZE, MailService
from helpdesk.core.clock import FixedClock
from helpdesk.core.db import create_engine
from helpdesk.core.migrate import upgrade
from helpdesk.core.queue import InProcessJobQueue
from helpdesk.core.settings import Settings
from helpdesk.runtime import Runtime, start_runtime, stop_runtime

WORDS = ["printer", "jams", "paper", "tray", "network", "vpn", "drops", "password", "reset", "invoice", "wrong", "screen", "flickers", "laptop", "battery", "mail", "server", "slow", "backup", "failed", "license", "expired", "access", "denied", "update", "stuck"]  # fmt: skip


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def generate(count: int, seed: int = 42) -> list[bytes]:
    """A mixed corpus: 55 % plain, 20 % HTML, 10 % with attachments, 15 % replies to earlier mails."""
    rng = random.Random(seed)
    start = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    earlier: list[tuple[str, str, str]] = []  # (message id, sender, subject)
    mails: list[bytes] = []
    for index in range(count):
        message = EmailMessage()
        kind = rng.random()
        if kind < 0.15 and earlier:
            parent_id, sender, subject = rng.choice(earlier)
            message["Subject"] = f"Re: {subject}"
            message["In-Reply-To"] = parent_id
            message["References"] = parent_id
            body = f"{_sentence(rng, 12)}\n\nOn Mon, 1 Mar 2027 at 09:00, {sender} wrote:\n> {_sentence(rng, 20)}\n"
        else:
            sender = f"customer{rng.randrange(count // 3 + 1)}@example{rng.randrange(40)}.com"
            subject = _sentence(rng, 5)[:-1]
            message["Subject"] = subject
            body = "\n\n".join(_sentence(rng, rng.randrange(8, 40)) for _ in range(rng.randrange(1, 5)))
        message["From"] = f"Customer {index} <{sender}>"
        message["To"] = "support@helpdesk.localhost"
        message["Date"] = format_datetime(start + timedelta(seconds=index))
        message_id = f"<bench-{seed}-{index}@example.com>"
        message["Message-ID"] = message_id
        message.set_content(body)
        if 0.15 <= kind < 0.35:
            message.add_alternative(
                f"<html><body><p>{body.replace(chr(10), '<br>')}</p></body></html>", subtype="html"
            )
        elif 0.35 <= kind < 0.45:
            message.add_attachment(rng.randbytes(rng.randrange(2_000, 30_000)), maintype="application",
                                   subtype="octet-stream", filename=f"log-{index}.bin")  # fmt: skip
        earlier.append((message_id, sender, str(message["Subject"]).removeprefix("Re: ")))
        mails.append(bytes(message))
    return mails


def baseline(mails: list[bytes]) -> float:
    """Mails per second parsed by the standard library alone (headers and the first text body)."""
    began = time.perf_counter()
    for raw in mails:
        message = email.message_from_bytes(raw, policy=policy.default)
        _ = (message["From"], message["Subject"], message["Message-ID"], message["In-Reply-To"])
        body = message.get_body(("plain", "html"))
        if body is not None:
            body.get_content()  # type: ignore[attr-defined]
    return len(mails) / (time.perf_counter() - began)


def product_parse(mails: list[bytes]) -> float:
    """Mails per second through the product's parser alone (``parse_message``)."""
    began = time.perf_counter()
    for raw in mails:
        parse_message(raw)
    return len(mails) / (time.perf_counter() - began)


class HeldJobQueue:
    """The embedded in-process queue, held: jobs queued while mail is processed run only at ``release``."""

    def __init__(self, inner: InProcessJobQueue) -> None:
        self.inner = inner
        self.held: list[tuple[str, tuple[Any, ...], str | None, float | None]] = []

    async def enqueue(
        self, job: str, *args: Any, job_id: str | None = None, defer_seconds: float | None = None
    ) -> None:
        self.held.append((job, args, job_id, defer_seconds))

    async def release(self) -> int:
        held, self.held = self.held, []
        for job, args, job_id, defer_seconds in held:
            await self.inner.enqueue(job, *args, job_id=job_id, defer_seconds=defer_seconds)
        await self.inner.drain(seconds=600)
        return len(held)

    async def close(self) -> None:
        await self.inner.close()


async def _start(database_url: str, redis_url: str) -> Runtime:
    """The product's runtime as a worker process has it: jobs queued in Redis (or held in process)."""
    settings = Settings(database_url=database_url, redis_url=redis_url or None,
                        max_attachment_bytes=10 * 1024 * 1024)  # fmt: skip
    runtime = await start_runtime(settings, clock=FixedClock(datetime(2027, 3, 1, 9, 0, tzinfo=UTC)))
    if isinstance(runtime.queue, InProcessJobQueue):
        runtime.queue = HeldJobQueue(runtime.queue)
    return runtime


async def _run_follow_ups(runtime: Runtime, redis_url: str) -> int:
    """Run every job queued so far (acknowledgements, KB suggestions); returns how many ran."""
    if isinstance(runtime.queue, HeldJobQueue):
        return await runtime.queue.release()
    from arq.connections import RedisSettings
    from arq.worker import Worker

    from helpdesk.worker import jobs

    worker = Worker(functions=jobs(), redis_settings=RedisSettings.from_dsn(redis_url), burst=True,  # type: ignore[arg-type]
                    handle_signals=False, ctx={"runtime": runtime}, poll_delay=0.05, log_results=False)  # fmt: skip
    try:
        await worker.main()
    finally:
        await worker.close()
    return int(worker.jobs_complete + worker.jobs_failed + worker.jobs_retried)


def _clear_scratch_redis(url: str) -> None:
    """Only this run's Redis database, and only arq's keys."""
    if url:
        import redis

        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter("arq:*"))
        if keys:
            client.delete(*keys)
        client.close()


class StatementCounter:
    """Statements sent to the database while ``counting`` (an executemany is one)."""

    def __init__(self, runtime: Runtime) -> None:
        self.count = 0
        self.counting = False
        event.listen(runtime.engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *args: Any) -> None:
        if self.counting:
            self.count += 1


async def ingest(
    database_url: str, redis_url: str, mails: list[bytes]
) -> tuple[float, list[float], dict[str, int]]:
    """The one-mail path: store, then process, one mail at a time (what a job does when one is pending)."""
    runtime = await _start(database_url, redis_url)
    service = MailService(runtime)
    outcomes: dict[str, int] = {}
    latencies: list[float] = []
    try:
        began = time.perf_counter()
        for raw in mails:
            one = time.perf_counter()
            stored = await service.store(raw, InboundSource.PIPE, enqueue=False)
            outcome = await service.process(stored.id)
            latencies.append(time.perf_counter() - one)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        elapsed = time.perf_counter() - began
        await _run_follow_ups(runtime, redis_url)
    finally:
        await stop_runtime(runtime)
    return len(mails) / elapsed, latencies, outcomes


async def ingest_batched(database_url: str, redis_url: str, mails: list[bytes]) -> dict[str, Any]:
    """The batched path: store every mail, then ``process_batch`` over ``BATCH_SIZE`` ids at a time, then
    the follow-up jobs; each stage timed apart."""
    runtime = await _start(database_url, redis_url)
    service = MailService(runtime)
    statements = StatementCounter(runtime)
    outcomes: dict[str, int] = {}
    try:
        began = time.perf_counter()
        ids = [(await service.store(raw, InboundSource.PIPE, enqueue=False)).id for raw in mails]
        stored = time.perf_counter()
        cpu_began = time.process_time()
        statements.counting = True
        for start in range(0, len(ids), BATCH_SIZE):
            for outcome in (await service.process_batch(ids[start : start + BATCH_SIZE])).values():
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
        processed = time.perf_counter()
        cpu_ms = (time.process_time() - cpu_began) * 1000 / len(mails)
        statements.counting = False
        follow_ups = await _run_follow_ups(runtime, redis_url)
        drained = time.perf_counter()
    finally:
        await stop_runtime(runtime)
    return {"store_per_s": len(mails) / (stored - began), "process_per_s": len(mails) / (processed - stored),
            "total_per_s": len(mails) / (processed - began), "follow_ups": follow_ups,
            "follow_ups_s": drained - processed, "statements_per_mail": statements.count / len(mails),
            "process_cpu_ms": cpu_ms,
            "outcomes": outcomes}  # fmt: skip


async def _admin(url: str, statement: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await (await connection.execution_options(isolation_level="AUTOCOMMIT")).execute(text(statement))
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--single-mails", type=int, default=300, help="mails through the one-mail path")
    parser.add_argument("--database-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13",
                        help="a scratch Redis database for the follow-up jobs (its arq keys are deleted); "
                             "'' holds them in process instead")  # fmt: skip
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    mails = generate(args.mails, args.seed)
    single = mails[: args.single_mails]
    base = make_url(args.database_url)
    server_url = base.render_as_string(hide_password=False)
    names = [f"helpdesk_bench_mail_{secrets.token_hex(4)}" for _ in range(2)]
    urls = [base.set(database=name).render_as_string(hide_password=False) for name in names]
    for name in names:
        asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    _clear_scratch_redis(args.redis_url)
    try:
        for url in urls:
            upgrade(url)
        parse_rate = baseline(mails)
        product_rate = product_parse(mails)
        rate, latencies, outcomes = asyncio.run(ingest(urls[0], args.redis_url, single))
        # arq remembers the ids of finished jobs, and both databases number their outbox rows from 1.
        _clear_scratch_redis(args.redis_url)
        batched = asyncio.run(ingest_batched(urls[1], args.redis_url, mails))
    finally:
        for name in names:
            asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        _clear_scratch_redis(args.redis_url)

    load_after = os.getloadavg()[0]
    p50 = statistics.median(latencies) * 1000
    p99 = statistics.quantiles(latencies, n=100)[98] * 1000
    size_mb = sum(map(len, mails)) / 1e6
    best = batched["process_per_s"]
    queue = f"arq on {args.redis_url}" if args.redis_url else "in-process queue, held"
    print(f"corpus: {len(mails)} mails, {size_mb:.1f} MB (seed {args.seed}); follow-up jobs: {queue}; "
          f"load average {load_before:.1f} before, {load_after:.1f} after on {os.cpu_count()} CPUs")  # fmt: skip
    print(f"baseline, stdlib parse only:                          {parse_rate:8.0f} mails/s")
    print(f"product parse only (parse_message):                   {product_rate:8.0f} mails/s")
    print(f"one-mail path, store + process ({len(single)} mails):            {rate:8.1f} mails/s "
          f"(p50 {p50:.1f} ms, p99 {p99:.1f} ms) {outcomes}")  # fmt: skip
    print(f"batched path ({BATCH_SIZE} per transaction), stages:")
    print(f"  receive: store the raw mail (one transaction each):   {batched['store_per_s']:8.1f} mails/s")
    print(f"  process_batch: parse + thread + store:              {best:8.1f} mails/s "
          f"({batched['statements_per_mail']:.2f} database statements per mail) {batched['outcomes']}")  # fmt: skip
    print(f"    of which CPU time of this process: {batched['process_cpu_ms']:.2f} ms per mail "
          f"(at most {1000 / batched['process_cpu_ms']:.0f} mails/s if it had a core to itself; the database "
          "and Redis servers use their own)")  # fmt: skip
    print(f"  receive + process:                                  {batched['total_per_s']:8.1f} mails/s")
    print(f"  then the follow-up jobs (acks, KB suggestions):     {batched['follow_ups_s']:8.1f} s for "
          f"{batched['follow_ups']} jobs, not counted above")  # fmt: skip
    print(f"ratio to baseline {best / parse_rate:.3f}; "
          f"target >= 300 mails/s per process for parse + thread + store: {'met' if best >= 300 else 'NOT met'}")  # fmt: skip
    print(json.dumps({"mails": len(mails), "mails_per_s": round(best, 1), "baseline_per_s": round(parse_rate, 1),
                      "ratio": round(best / parse_rate, 4), "parse_per_s": round(product_rate, 1),
                      "store_per_s": round(batched["store_per_s"], 1),
                      "process_per_s": round(batched["process_per_s"], 1),
                      "receive_and_process_per_s": round(batched["total_per_s"], 1),
                      "statements_per_mail": round(batched["statements_per_mail"], 2),
                      "process_cpu_ms_per_mail": round(batched["process_cpu_ms"], 2),
                      "follow_ups": batched["follow_ups"], "follow_ups_s": round(batched["follow_ups_s"], 1),
                      "single_mails_per_s": round(rate, 1), "single_p50_ms": round(p50, 2),
                      "single_p99_ms": round(p99, 2), "outcomes": batched["outcomes"],
                      "load_average": [round(load_before, 1), round(load_after, 1)]}))  # fmt: skip


if __name__ == "__main__":
    main()
