"""Inbound mail throughput: store + parse + thread + write, per process, on a fresh PostgreSQL database.

Generates a deterministic mixed corpus (plain, HTML, attachments, replies threading to earlier mails and
to the help desk's acknowledgements), ingests it through the product's own code (``MailService.store`` and
``MailService.process``) in this one process, and compares with a baseline measured in the same run:
parsing alone with the standard library's ``email`` parser. People-readable figures first; the last line
is one JSON object with the same figures.

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

from sqlalchemy import text
from sqlalchemy.engine import make_url

from helpdesk.channels.email.models import InboundSource
from helpdesk.channels.email.service import MailService
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


async def ingest(database_url: str, mails: list[bytes]) -> tuple[float, list[float], dict[str, int]]:
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
    parser.add_argument("--database-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()

    mails = generate(args.mails, args.seed)
    base = make_url(args.database_url)
    name = f"helpdesk_bench_mail_{secrets.token_hex(4)}"
    server_url = base.render_as_string(hide_password=False)
    scratch_url = base.set(database=name).render_as_string(hide_password=False)
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    try:
        upgrade(scratch_url)
        parse_rate = baseline(mails)
        rate, latencies, outcomes = asyncio.run(ingest(scratch_url, mails))
    finally:
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    p50 = statistics.median(latencies) * 1000
    p99 = statistics.quantiles(latencies, n=100)[98] * 1000
    size_mb = sum(map(len, mails)) / 1e6
    print(f"corpus: {len(mails)} mails, {size_mb:.1f} MB (seed {args.seed}); outcomes {outcomes}")
    print(f"baseline, stdlib parse only:          {parse_rate:8.0f} mails/s")
    print(f"store + parse + thread + write (1 process, PostgreSQL): {rate:8.0f} mails/s")
    print(f"per mail: p50 {p50:.1f} ms, p99 {p99:.1f} ms; ratio to baseline {rate / parse_rate:.3f}")
    print(f"target >= 300 mails/s per process: {'met' if rate >= 300 else 'NOT met'}")
    print(json.dumps({"mails": len(mails), "mails_per_s": round(rate, 1), "baseline_per_s": round(parse_rate, 1),
                      "ratio": round(rate / parse_rate, 4), "p50_ms": round(p50, 2), "p99_ms": round(p99, 2),
                      "outcomes": outcomes}))  # fmt: skip


if __name__ == "__main__":
    main()
