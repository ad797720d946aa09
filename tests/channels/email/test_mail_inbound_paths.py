"""The ways in, over real protocols: the SMTP listener (aiosmtplib client), HTTP, and the pipe command;
and what the product sends back arrives at a real SMTP server, threaded and marked auto-replied."""

from __future__ import annotations

import asyncio
import os
import sys

import aiosmtplib
import pytest
from mailkit import inbound, make_mail, outgoing
from testing_support import free_port

from helpdesk.channels.email.listener import serve_smtp

pytestmark = pytest.mark.integration


@pytest.fixture
async def mailing(make_client, smtp_server):  # type: ignore[no-untyped-def]
    """An app that sends its mail to the test's SMTP server: (client, runtime)."""
    async with make_client(
        mail_enabled=True, smtp_port=smtp_server.port, max_inbound_mail_bytes=200_000
    ) as started:
        yield started


async def test_mail_delivered_to_the_listener_over_smtp_becomes_a_ticket_acknowledged_in_its_thread(
    mailing, smtp_server
) -> None:  # type: ignore[no-untyped-def]
    _, runtime = mailing
    port = free_port()
    server = await serve_smtp(runtime, "127.0.0.1", port)
    try:
        raw = make_mail(message_id="<smtp-1@mail.example.com>", subject="Screen flickers")
        errors, response = await aiosmtplib.send(
            raw,
            sender="anna@example.com",
            recipients=["support@helpdesk.localhost"],
            hostname="127.0.0.1",
            port=port,
        )
        assert errors == {}
        assert "stored as inbound mail" in response
        inbound_id = int(response.rsplit(" ", 1)[1])
        assert (await inbound(runtime, inbound_id)).source == "smtp"
        # the same mail again (an MTA retrying after a lost 250) is accepted and stored once
        _, again = await aiosmtplib.send(
            raw,
            sender="anna@example.com",
            recipients=["support@helpdesk.localhost"],
            hostname="127.0.0.1",
            port=port,
        )
        assert again.endswith(f" {inbound_id}")
        with pytest.raises(aiosmtplib.SMTPResponseException) as too_big:
            await aiosmtplib.send(
                make_mail(body="x" * 300_000), sender="a@example.com", recipients=["s@helpdesk.localhost"],
                hostname="127.0.0.1", port=port,
            )  # fmt: skip
        assert too_big.value.code == 552
        await runtime.queue.drain()
    finally:
        server.close()
        await server.wait_closed()
    row = await inbound(runtime, inbound_id)
    assert (row.status, row.outcome) == ("processed", "new_ticket")
    [ack] = smtp_server.messages
    assert ack["To"] == "anna@example.com"
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["In-Reply-To"] == "<smtp-1@mail.example.com>"
    assert ack["References"] == "<smtp-1@mail.example.com>"
    assert ack["Message-ID"].endswith("@helpdesk.localhost>")
    assert f"[HD-{row.ticket_id}] Screen flickers" in ack["Subject"]
    assert ack.get_body(("plain",)) is not None
    assert ack.get_body(("html",)) is not None


async def test_an_auto_reply_delivered_over_smtp_is_never_answered(mailing, smtp_server) -> None:  # type: ignore[no-untyped-def]
    _, runtime = mailing
    port = free_port()
    server = await serve_smtp(runtime, "127.0.0.1", port)
    try:
        raw = make_mail(subject="Alert: disk full", headers={"Auto-Submitted": "auto-generated"})
        await aiosmtplib.send(
            raw, sender="a@example.com", recipients=["s@h.localhost"], hostname="127.0.0.1", port=port
        )
        await runtime.queue.drain()
    finally:
        server.close()
        await server.wait_closed()
    assert await outgoing(runtime, "ticket_acknowledgement") == []
    assert smtp_server.messages == []


async def test_the_http_endpoint_stores_raw_mail_for_admin_tokens_only_and_refuses_oversized_bodies(
    mailing, admin, agent
) -> None:  # type: ignore[no-untyped-def]
    client, runtime = mailing
    raw = make_mail(message_id="<http-1@mail.example.com>")
    headers = {**admin.headers, "Content-Type": "message/rfc822"}
    first = await client.post("/api/v1/mail/inbound", content=raw, headers=headers)
    assert first.status_code == 201, first.text
    second = await client.post("/api/v1/mail/inbound", content=raw, headers=headers)
    assert (second.status_code, second.json()) == (200, {"id": first.json()["id"], "created": False})
    forbidden = await client.post(
        "/api/v1/mail/inbound", content=raw, headers={**agent.headers, "Content-Type": "message/rfc822"}
    )
    assert forbidden.status_code == 403
    too_big = await client.post(
        "/api/v1/mail/inbound", content=make_mail(body="x" * 300_000), headers=headers
    )
    assert too_big.status_code == 413
    assert too_big.json()["code"] == "too_large"
    await runtime.queue.drain()
    status = await client.get(f"/api/v1/mail/inbound/{first.json()['id']}", headers=agent.headers)
    assert status.json()["outcome"] == "new_ticket"


async def _ingest(settings, raw: bytes, **env: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "from helpdesk.cli import main; main()", "mail", "ingest", "-",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "HELPDESK_DATABASE_URL": settings.database_url, "HELPDESK_REDIS_URL": "", **env},
    )  # fmt: skip
    out, err = await process.communicate(raw)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_the_pipe_command_stores_once_processes_and_exits_with_documented_codes(
    runtime, settings
) -> None:  # type: ignore[no-untyped-def]
    raw = make_mail(message_id="<pipe-1@mail.example.com>")
    code, out, _ = await _ingest(settings, raw)
    assert code == 0
    inbound_id = int(out.split()[0])
    code, out, _ = await _ingest(settings, raw)
    assert (code, out.strip()) == (0, f"{inbound_id} (stored before)")
    row = await inbound(runtime, inbound_id)
    assert (row.source, row.status, row.outcome) == ("pipe", "processed", "new_ticket")
    code, _, err = await _ingest(settings, make_mail(body="x" * 5000), HELPDESK_MAX_INBOUND_MAIL_BYTES="1000")
    assert code == 65
    assert "limit" in err
