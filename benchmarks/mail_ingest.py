"""Inbound mail throughput: store + parse + thread + write, per process, on a fresh PostgreSQL database.

Generates a deterministic mixed corpus (plain, HTML, attachments, replies threading to earlier mails and
to the help desk's acknowledgements), ingests it through the product's own code (``MailService.store`` and
``MailService.process`` one at a time on part of it, ``MailService.process_batch`` on all of it, each on its
own fresh database) in this one process, and compares with a baseline measured in the same run: parsing
alone with the standard library's ``email`` parser. Stages are printed apart (product parse only, store,
process) so a reader sees where the time goes. People-readable figures first; the last line is one JSON
object with the same figures (``mails_per_s`` is the batched store + process).

    .venv/bin/python benchmarks/mail_ingest.py [--mails 3000] [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import email
import json
import random
import secrets
import statistics
import time
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from helpdesk.channels.email.models import InboundSource
from helpdesk.channels.email.parser import parse_message
from helpdesk.channels.email.service import BATCH_SIZE, MailService
from helpdesk.core.clock import FixedClock
from helpdesk.core.db import create_engine
from helpdesk.core.migrate import upgrade
from helpdesk.core.settings import Settings
from helpdesk.runtime import start_runtime, stop_runtime

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


async def ingest(database_url: str, mails: list[bytes]) -> tuple[float, list[float], dict[str, int]]:
    """The one-mail path: store, then process, one mail at a time (what a job does when one is pending)."""
    settings = Settings(database_url=database_url, max_attachment_bytes=10 * 1024 * 1024)
    runtime = await start_runtime(settings, clock=FixedClock(datetime(2027, 3, 1, 9, 0, tzinfo=UTC)),
                                  in_process_jobs=True)  # fmt: skip
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
        await runtime.queue.drain(seconds=120)  # acknowledgement jobs (mail disabled: they only check)
    finally:
        await stop_runtime(runtime)
    return len(mails) / elapsed, latencies, outcomes


async def ingest_batched(database_url: str, mails: list[bytes]) -> dict[str, Any]:
    """The batched path: store every mail, then ``process_batch`` over ``BATCH_SIZE`` ids at a time.
    Stages are timed apart; the jobs the tickets queue (acknowledgements, KB suggestions) run concurrently
    in this process and are drained afterwards (drain time reported, not counted)."""
    settings = Settings(database_url=database_url, max_attachment_bytes=10 * 1024 * 1024)
    runtime = await start_runtime(settings, clock=FixedClock(datetime(2027, 3, 1, 9, 0, tzinfo=UTC)),
                                  in_process_jobs=True)  # fmt: skip
    service = MailService(runtime)
    outcomes: dict[str, int] = {}
    try:
        began = time.perf_counter()
        ids = [(await service.store(raw, InboundSource.PIPE, enqueue=False)).id for raw in mails]
        stored = time.perf_counter()
        for start in range(0, len(ids), BATCH_SIZE):
            for outcome in (await service.process_batch(ids[start : start + BATCH_SIZE])).values():
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
        processed = time.perf_counter()
        await runtime.queue.drain(seconds=300)
        drained = time.perf_counter()
    finally:
        await stop_runtime(runtime)
    return {"store_per_s": len(mails) / (stored - began), "process_per_s": len(mails) / (processed - stored),
            "total_per_s": len(mails) / (processed - began), "drain_s": drained - processed,
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
    args = parser.parse_args()

    mails = generate(args.mails, args.seed)
    single = mails[: args.single_mails]
    base = make_url(args.database_url)
    server_url = base.render_as_string(hide_password=False)
    names = [f"helpdesk_bench_mail_{secrets.token_hex(4)}" for _ in range(2)]
    urls = [base.set(database=name).render_as_string(hide_password=False) for name in names]
    for name in names:
        asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    try:
        for url in urls:
            upgrade(url)
        parse_rate = baseline(mails)
        product_rate = product_parse(mails)
        rate, latencies, outcomes = asyncio.run(ingest(urls[0], single))
        batched = asyncio.run(ingest_batched(urls[1], mails))
    finally:
        for name in names:
            asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    p50 = statistics.median(latencies) * 1000
    p99 = statistics.quantiles(latencies, n=100)[98] * 1000
    size_mb = sum(map(len, mails)) / 1e6
    best = batched["total_per_s"]
    print(f"corpus: {len(mails)} mails, {size_mb:.1f} MB (seed {args.seed})")
    print(f"baseline, stdlib parse only:                          {parse_rate:8.0f} mails/s")
    print(f"product parse only (parse_message):                   {product_rate:8.0f} mails/s")
    print(f"one-mail path, store + process ({len(single)} mails):            {rate:8.1f} mails/s "
          f"(p50 {p50:.1f} ms, p99 {p99:.1f} ms) {outcomes}")  # fmt: skip
    print(f"batched path ({BATCH_SIZE} per transaction), stages:")
    print(f"  store (one INSERT per mail):                        {batched['store_per_s']:8.1f} mails/s")
    print(f"  process_batch (parse + thread + write):             {batched['process_per_s']:8.1f} mails/s")
    print(f"  store + process:                                    {best:8.1f} mails/s {batched['outcomes']}")
    print(f"  then draining queued jobs (acks, KB suggestions):   {batched['drain_s']:8.1f} s, not counted")
    print(f"ratio to baseline {best / parse_rate:.3f}; "
          f"target >= 300 mails/s per process: {'met' if best >= 300 else 'NOT met'}")  # fmt: skip
    print(json.dumps({"mails": len(mails), "mails_per_s": round(best, 1), "baseline_per_s": round(parse_rate, 1),
                      "ratio": round(best / parse_rate, 4), "parse_per_s": round(product_rate, 1),
                      "store_per_s": round(batched["store_per_s"], 1),
                      "process_per_s": round(batched["process_per_s"], 1), "drain_s": round(batched["drain_s"], 1),
                      "single_mails_per_s": round(rate, 1), "single_p50_ms": round(p50, 2),
                      "single_p99_ms": round(p99, 2), "outcomes": batched["outcomes"]}))  # fmt: skip


if __name__ == "__main__":
    main()
