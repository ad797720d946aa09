"""Faults: PostgreSQL "restarts" while mail comes in and goes out; afterwards every inbound mail is stored
once and processed once, and every outbound mail reached the SMTP server once.

The server is shared by everything on the machine, so it is never restarted for real: the application talks
to it through a TCP proxy in the test process, and the proxy drops every connection and refuses new ones
for a while. Mail comes in over the SMTP listener and over HTTP, retried by the sender until stored. One outage is armed to begin right after a COMMIT went to the server (the server commits, the
application never hears so); another begins when the SMTP server accepts a mail, before the sender could
record that it went out. The worker's outbox relay keeps running meanwhile, as it does in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.message
import email.policy
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import aiosmtplib
import httpx
import pytest
from aiosmtpd.controller import Controller
from mailkit import make_mail
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from tcp_proxy import TcpProxy
from testing_support import free_port

from helpdesk.channels.email.listener import serve_smtp
from helpdesk.channels.email.models import InboundMail
from helpdesk.core.db import create_engine
from helpdesk.notifications.models import OutgoingMail
from helpdesk.runtime import Runtime
from helpdesk.tickets.models import Message
from helpdesk.worker import relay_outbox_job

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MAILS = 30
OUTAGE_SECONDS = 2.0


@pytest.fixture
def postgres_url(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("a database restart is simulated for PostgreSQL only")
    return database_url


@pytest.fixture
async def proxy(postgres_url: str) -> AsyncIterator[TcpProxy]:
    url = make_url(postgres_url)
    started = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await started.start()
    yield started
    await started.close()


class RestartingSink:
    """A real SMTP server that records what it accepts, and takes the database away (through the proxy)
    as it accepts the ``restart_at``-th mail: the sender then cannot store that the mail went out."""

    def __init__(self, proxy: TcpProxy, loop: asyncio.AbstractEventLoop, restart_at: int) -> None:
        self.proxy, self.loop, self.restart_at = proxy, loop, restart_at
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        self.messages.append(email.message_from_bytes(raw, policy=email.policy.default))  # type: ignore[arg-type]
        if len(self.messages) == self.restart_at:
            # The controller runs in a thread of its own; the proxy lives in the test's loop.
            asyncio.run_coroutine_threadsafe(self._outage(), self.loop).result(timeout=10)
        return "250 Message accepted for delivery"

    async def _outage(self) -> None:
        self.proxy.outage(OUTAGE_SECONDS)


@pytest.fixture
async def restarting_sink(proxy: TcpProxy) -> AsyncIterator[RestartingSink]:
    sink = RestartingSink(proxy, asyncio.get_running_loop(), restart_at=5)
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    sink.port = port  # type: ignore[attr-defined]
    try:
        yield sink
    finally:
        controller.stop()


async def deliver_until_stored(
    client: httpx.AsyncClient, headers: dict[str, str], smtp_port: int, n: int, raw: bytes
) -> None:
    """Deliver like an MTA (over SMTP) or a webhook provider (over HTTP), alternately: a refusal, a 451 or
    a server error is retried until the help desk answers that it stored the mail."""
    async with asyncio.timeout(60):
        while True:
            if n % 2 == 0:
                with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                    await aiosmtplib.send(
                        raw, sender=f"customer{n}@example.com", recipients=["support@helpdesk.localhost"],
                        hostname="127.0.0.1", port=smtp_port,
                    )  # fmt: skip
                    return
            else:
                with contextlib.suppress(httpx.HTTPError):
                    response = await client.post(
                        "/api/v1/mail/inbound",
                        content=raw,
                        headers={**headers, "Content-Type": "message/rfc822"},
                    )
                    if response.status_code in (200, 201):
                        return
            await asyncio.sleep(0.2)


async def relay_like_the_worker(runtime: Runtime, stop: asyncio.Event) -> None:
    """The worker's outbox relay cron, run often: outbox rows committed while the relay after commit
    could not reach the database are queued by it."""
    while not stop.is_set():
        with contextlib.suppress(Exception):
            await relay_outbox_job({"runtime": runtime})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=0.2)


async def test_a_database_restart_while_mail_is_processed_and_sent_loses_and_doubles_nothing(
    make_client: Any, admin: Any, postgres_url: str, proxy: TcpProxy, restarting_sink: RestartingSink
) -> None:
    proxied = make_url(postgres_url).set(host="127.0.0.1", port=proxy.port)
    direct = create_engine(postgres_url)  # the test's own view of the database, not through the proxy
    raws = [
        make_mail(
            sender=f"Customer {n} <customer{n}@example.com>",
            subject=f"Restart {n}",
            message_id=f"<restart-{n}@mail.example.com>",
        )
        for n in range(MAILS)
    ]
    try:
        async with make_client(
            database_url=proxied.render_as_string(hide_password=False),
            mail_enabled=True,
            smtp_port=restarting_sink.port,  # type: ignore[attr-defined]
        ) as (client, runtime):
            stop = asyncio.Event()
            relay = asyncio.create_task(relay_like_the_worker(runtime, stop))
            listener_port = free_port()
            listener = await serve_smtp(runtime, "127.0.0.1", listener_port)
            inbound_outage = proxy.cut_after(b"COMMIT", 12, outage_seconds=OUTAGE_SECONDS)
            for n, raw in enumerate(raws):
                await deliver_until_stored(client, admin.headers, listener_port, n, raw)
            listener.close()
            async with asyncio.timeout(120):
                while True:  # polled: the work is spread over jobs, retries and the relay
                    if await everything_done(direct):
                        break
                    await asyncio.sleep(0.5)
            stop.set()
            await relay
            # The work is done; what may still wait is a retry of a mail already processed (a no-op).
            await runtime.queue.close()
        assert inbound_outage.is_set()
        assert proxy.cuts == 2
        async with direct.connect() as conn:
            stored = Counter((await conn.execute(select(InboundMail.message_id, InboundMail.status))).all())
            messages = await conn.scalar(select(func.count()).select_from(Message))
            per_mail = await conn.scalar(select(func.count(func.distinct(InboundMail.ticket_message_id))))
            outgoing = list(await conn.scalars(select(OutgoingMail.message_id)))
    finally:
        await direct.dispose()
    assert stored == Counter({(f"<restart-{n}@mail.example.com>", "processed"): 1 for n in range(MAILS)})
    assert messages == MAILS  # each mail became one ticket message, none was lost or doubled
    assert per_mail == MAILS
    assert len(outgoing) == MAILS  # one acknowledgement per new ticket
    received = Counter(message["Message-ID"] for message in restarting_sink.messages)
    assert received == Counter(set(outgoing))  # every acknowledgement arrived, and only once


async def everything_done(engine: Any) -> bool:
    async with engine.connect() as conn:
        processed = await conn.scalar(
            select(func.count()).select_from(InboundMail).where(InboundMail.status == "processed")
        )
        unsent = await conn.scalar(
            select(func.count()).select_from(OutgoingMail).where(OutgoingMail.sent_at.is_(None))
        )
        outgoing = await conn.scalar(select(func.count()).select_from(OutgoingMail))
    return processed == MAILS and outgoing == MAILS and unsent == 0
