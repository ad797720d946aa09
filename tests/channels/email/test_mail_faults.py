"""Faults: a worker killed (SIGKILL) in the middle of a batch; afterwards every mail is processed once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import pytest
from mailkit import make_mail
from sqlalchemy import func, select

from helpdesk.channels.email.models import InboundMail, InboundSource
from helpdesk.channels.email.service import MailService
from helpdesk.tickets.models import Message

pytestmark = pytest.mark.integration

WORKER = """
import asyncio, sys
from sqlalchemy import select
from helpdesk.channels.email.models import InboundMail
from helpdesk.channels.email.service import MailService
from helpdesk.core.settings import Settings
from helpdesk.runtime import start_runtime

async def main():
    runtime = await start_runtime(Settings.from_env(), in_process_jobs=True)
    async with runtime.sessions() as session:
        ids = list(await session.scalars(select(InboundMail.id).where(InboundMail.status == "pending").order_by(InboundMail.id)))
    for inbound_id in ids:
        outcome = await MailService(runtime).process(inbound_id)
        print(inbound_id, outcome, flush=True)

asyncio.run(main())
"""


async def test_a_worker_killed_mid_batch_leaves_every_mail_stored_once_and_processed_once_after_restart(
    runtime, settings
) -> None:  # type: ignore[no-untyped-def]
    service = MailService(runtime)
    ids = [
        (await service.store(make_mail(subject=f"Batch {n}"), InboundSource.SMTP, enqueue=False)).id
        for n in range(30)
    ]
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WORKER, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, "HELPDESK_DATABASE_URL": settings.database_url, "HELPDESK_REDIS_URL": ""},
    )  # fmt: skip
    assert worker.stdout is not None
    done = 0
    async with asyncio.timeout(60):
        while done < 5:
            line = await worker.stdout.readline()
            assert line, "the worker ended before it was killed"
            done += 1
    worker.send_signal(signal.SIGKILL)  # in the middle of the batch, probably inside a transaction
    await worker.wait()
    for inbound_id in ids:  # the restarted worker: every job runs again
        await service.process(inbound_id)
    async with runtime.sessions() as session:
        statuses = list(await session.scalars(select(InboundMail.status).where(InboundMail.id.in_(ids))))
        messages = await session.scalar(select(func.count()).select_from(Message))
        per_mail = await session.scalar(
            select(func.count(func.distinct(InboundMail.ticket_message_id))).where(InboundMail.id.in_(ids))
        )
    assert statuses == ["processed"] * len(ids)
    assert messages == len(ids)  # no mail became two messages, none was lost
    assert per_mail == len(ids)
