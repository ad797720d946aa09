"""Outgoing mail through a real SMTP server: what arrives, exactly once, retried on 4xx, failed on 5xx, via arq."""

from __future__ import annotations

import re
import secrets

import pytest
from arq.connections import RedisSettings, create_pool
from arq.worker import Retry, Worker
from sqlalchemy import select

from helpdesk.core.queue import ArqJobQueue
from helpdesk.notifications.jobs import send_mail_job
from helpdesk.notifications.models import OutgoingMail
from helpdesk.worker import WorkerSettings

pytestmark = pytest.mark.integration


@pytest.fixture
async def mailing(make_client, smtp_server):  # type: ignore[no-untyped-def]
    """A second app on the same database that sends mail to the test's SMTP server: (client, runtime)."""
    async with make_client(mail_enabled=True, smtp_port=smtp_server.port) as started:
        yield started


async def queued_mail(runtime, kind):  # type: ignore[no-untyped-def]
    async with runtime.sessions() as session:
        mail = await session.scalar(select(OutgoingMail).where(OutgoingMail.kind == kind))
    assert mail is not None, f"no {kind} mail was queued"
    return mail


async def reread(runtime, mail_id):  # type: ignore[no-untyped-def]
    async with runtime.sessions() as session:
        return await session.get(OutgoingMail, mail_id)


async def test_a_new_ticket_is_acknowledged_by_mail_with_the_tracking_link(mailing, smtp_server, agent):  # type: ignore[no-untyped-def]
    client, runtime = mailing
    response = await client.post(
        "/api/v1/tickets",
        json={"subject": "VPN down", "description": "since 9:00", "customer_email": "anna@example.com"},
        headers=agent.headers,
    )
    assert response.status_code == 201, response.text
    await runtime.queue.drain()
    [message] = smtp_server.messages
    assert message["To"] == "anna@example.com"
    assert message["Auto-Submitted"] == "auto-replied"
    assert response.json()["reference"] in message["Subject"]
    assert response.json()["tracking_url"] in message.get_body(("plain",)).get_content()


async def test_an_agents_public_reply_arrives_without_auto_submitted(
    mailing, smtp_server, agent, open_ticket
):  # type: ignore[no-untyped-def]
    client, runtime = mailing
    ticket = await open_ticket(
        agent.headers, customer_email="boris@example.com"
    )  # through the non-mailing app
    reply = await client.post(
        f"/api/v1/tickets/{ticket['id']}/messages",
        json={"body": "Restart the router, please."},
        headers=agent.headers,
    )
    assert reply.status_code == 201, reply.text
    await runtime.queue.drain()
    [message] = smtp_server.messages
    assert message["To"] == "boris@example.com"
    assert message["Auto-Submitted"] is None
    assert message["Subject"] == f"Re: [{ticket['reference']}] Printer jams"
    assert "Restart the router, please." in message.get_body(("plain",)).get_content()


async def test_an_internal_note_sends_no_mail(mailing, smtp_server, agent, open_ticket):  # type: ignore[no-untyped-def]
    client, runtime = mailing
    ticket = await open_ticket(agent.headers, customer_email="clara@example.com")
    note = await client.post(
        f"/api/v1/tickets/{ticket['id']}/messages",
        json={"body": "customer is on the old firmware", "kind": "internal_note"},
        headers=agent.headers,
    )
    assert note.status_code == 201, note.text
    await runtime.queue.drain()
    assert smtp_server.messages == []


async def test_running_the_send_job_twice_sends_the_mail_once(mailing, smtp_server, agent, open_ticket):  # type: ignore[no-untyped-def]
    _, runtime = mailing
    await open_ticket(agent.headers, customer_email="dana@example.com")
    mail = await queued_mail(runtime, "ticket_acknowledgement")
    ctx = {"runtime": runtime, "job_try": 1}
    assert await send_mail_job(ctx, mail.id) is True
    assert await send_mail_job(ctx, mail.id) is False
    assert len(smtp_server.messages) == 1
    assert (await reread(runtime, mail.id)).sent_at is not None


async def test_a_4xx_from_the_server_asks_for_a_retry_and_the_mail_goes_out_once_accepted(
    mailing, smtp_server, agent, open_ticket
):  # type: ignore[no-untyped-def]
    _, runtime = mailing
    await open_ticket(agent.headers, customer_email="emil@example.com")
    mail = await queued_mail(runtime, "ticket_acknowledgement")
    smtp_server.reply = "451 4.3.0 mailbox busy, try later"
    with pytest.raises(Retry):
        await send_mail_job({"runtime": runtime, "job_try": 1}, mail.id)
    waiting = await reread(runtime, mail.id)
    assert (waiting.sent_at, waiting.failed_at) == (None, None)
    assert waiting.last_error.startswith("451")
    smtp_server.reply = None
    assert await send_mail_job({"runtime": runtime, "job_try": 2}, mail.id) is True
    assert [m["To"] for m in smtp_server.messages] == ["emil@example.com"]
    sent = await reread(runtime, mail.id)
    assert sent.sent_at is not None
    assert sent.attempts == 2


async def test_a_5xx_from_the_server_marks_the_mail_failed_with_the_reason(
    mailing, smtp_server, agent, open_ticket
):  # type: ignore[no-untyped-def]
    _, runtime = mailing
    await open_ticket(agent.headers, customer_email="fyodor@example.com")
    mail = await queued_mail(runtime, "ticket_acknowledgement")
    smtp_server.reply = "550 5.1.1 no such mailbox"
    assert await send_mail_job({"runtime": runtime, "job_try": 1}, mail.id) is False
    failed = await reread(runtime, mail.id)
    assert failed.failed_at is not None
    assert failed.sent_at is None
    assert failed.last_error.startswith("550")
    smtp_server.reply = None
    assert await send_mail_job({"runtime": runtime, "job_try": 2}, mail.id) is False
    assert smtp_server.messages == []


async def test_a_real_arq_worker_runs_the_send_job_queued_through_redis(
    mailing, smtp_server, agent, open_ticket, redis_url
):  # type: ignore[no-untyped-def]
    _, runtime = mailing
    await open_ticket(agent.headers, customer_email="galina@example.com")
    mail = await queued_mail(runtime, "ticket_acknowledgement")
    queue_name = f"arq:test:{secrets.token_hex(4)}"  # nothing left over from other runs is picked up
    pool = await create_pool(RedisSettings.from_dsn(redis_url), default_queue_name=queue_name)
    worker = Worker(
        WorkerSettings.functions,
        queue_name=queue_name,
        redis_pool=pool,
        burst=True,
        handle_signals=False,
        ctx={"runtime": runtime},
        keep_result=5,
    )
    try:
        await ArqJobQueue(pool).enqueue("send_mail_job", mail.id, job_id=f"test-{secrets.token_hex(4)}")
        await worker.main()
    finally:
        await worker.close()
    assert worker.jobs_complete == 1
    assert [m["To"] for m in smtp_server.messages] == ["galina@example.com"]
    assert re.search(r"/track/\S{20,}", smtp_server.messages[0].get_body(("plain",)).get_content())
