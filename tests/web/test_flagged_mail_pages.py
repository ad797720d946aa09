"""The console's flagged mail page: inbound mail that became no ticket, newest first, with the raw message,
"process again" and "dismiss" (audited), a count in the navigation, for agents, managers and admins, in English
and Russian."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import httpx
from sqlalchemy import select

from helpdesk.channels.email.models import InboundMail, InboundSource
from helpdesk.channels.email.service import MailService
from helpdesk.core.clock import FixedClock
from helpdesk.runtime import Runtime
from helpdesk.tickets.models import AuditEvent

ROW = re.compile(r'<tr data-inbound="(\d+)">')


def raw_mail(subject: str, *, sender: str = "Anna Petrova <anna@example.com>", **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "support@helpdesk.localhost"
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime(2027, 3, 1, 8, 0, tzinfo=UTC))
    message["Message-ID"] = f"<{secrets.token_hex(8)}@mail.example.com>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content("Hello")
    return bytes(message)


async def flagged_mail(runtime: Runtime, subject: str = "Out of office", **headers: str) -> int:
    """An out-of-office reply that threads to no ticket: stored, processed, flagged."""
    service = MailService(runtime)
    stored = await service.store(
        raw_mail(subject, Auto_Submitted="auto-replied", **headers), InboundSource.PIPE, enqueue=False
    )
    assert await service.process(stored.id) == "flagged"
    return stored.id


async def held_mail(runtime: Runtime, subject: str, reason: str = "held for a look") -> int:
    """An ordinary mail flagged by hand (as a cap does): processed again, it becomes a ticket."""
    service = MailService(runtime)
    stored = await service.store(raw_mail(subject), InboundSource.SMTP, enqueue=False)
    assert await service.flag(stored.id, reason) == "flagged"
    return stored.id


async def status_of(runtime: Runtime, inbound_id: int) -> str:
    async with runtime.sessions() as session:
        status = await session.scalar(select(InboundMail.status).where(InboundMail.id == inbound_id))
    assert status is not None
    return status


async def test_an_agent_sees_flagged_mail_newest_first_with_sender_subject_and_reason(
    client: httpx.AsyncClient, runtime: Runtime, clock: FixedClock, sign_in: Any
) -> None:
    older = await flagged_mail(runtime, "Out of office")
    clock.advance(timedelta(minutes=5))
    newer = await flagged_mail(
        runtime, "=?utf-8?b?0J7RgtC/0YPRgdC6?=", sender="=?utf-8?b?0JjQstCw0L0=?= <ivan@example.ru>"
    )
    await sign_in("agent")
    page = await client.get("/agent/inbound-mail")
    assert page.status_code == 200
    assert ROW.findall(page.text) == [str(newer), str(older)]
    assert "Отпуск" in page.text  # the encoded subject, decoded
    assert "Иван &lt;ivan@example.ru&gt;" in page.text
    assert "automatic reply that belongs to no known ticket" in page.text


async def test_the_flagged_mail_list_shows_twenty_five_a_page(
    client: httpx.AsyncClient, runtime: Runtime, sign_in: Any
) -> None:
    ids = [await held_mail(runtime, f"Held {n}") for n in range(27)]
    await sign_in("agent")
    first = await client.get("/agent/inbound-mail")
    assert len(ROW.findall(first.text)) == 25
    assert 'href="/agent/inbound-mail?page=2" rel="next"' in first.text
    second = await client.get("/agent/inbound-mail?page=2")
    assert ROW.findall(second.text) == [str(ids[1]), str(ids[0])]  # same time: the higher id is newer


async def test_processing_a_flagged_mail_again_makes_it_a_ticket_and_is_audited(
    client: httpx.AsyncClient, runtime: Runtime, sign_in: Any
) -> None:
    inbound_id = await held_mail(runtime, "Printer on fire", reason="over the cap of 20 new tickets")
    agent = await sign_in("agent", name="Olga")
    done = await client.post(f"/agent/inbound-mail/{inbound_id}/process-again", data={"_csrf": agent.csrf})
    assert done.status_code == 303
    assert done.headers["location"] == "/agent/inbound-mail?done=processing"
    await runtime.queue.drain()  # type: ignore[attr-defined]
    assert await status_of(runtime, inbound_id) == "processed"
    async with runtime.sessions() as session:
        trail = list(
            await session.execute(
                select(AuditEvent.field, AuditEvent.old_value, AuditEvent.new_value, AuditEvent.actor)
                .where(AuditEvent.entity == "inbound_mail", AuditEvent.entity_id == inbound_id)
                .order_by(AuditEvent.id)
            )
        )
    assert [tuple(row) for row in trail] == [
        ("status", "flagged", "pending", "Olga (agent)"),
        ("flag_reason", "over the cap of 20 new tickets", None, "Olga (agent)"),
    ]
    page = await client.get("/agent/inbound-mail?done=processing")
    assert "The mail is being processed again." in page.text
    assert ROW.findall(page.text) == []


async def test_dismissing_a_flagged_mail_takes_it_off_the_list_keeps_it_stored_and_is_audited(
    client: httpx.AsyncClient, runtime: Runtime, sign_in: Any
) -> None:
    inbound_id = await flagged_mail(runtime)
    admin = await sign_in("admin", name="Ada")
    done = await client.post(f"/agent/inbound-mail/{inbound_id}/dismiss", data={"_csrf": admin.csrf})
    assert done.status_code == 303
    assert await status_of(runtime, inbound_id) == "dismissed"
    again = await client.post(f"/agent/inbound-mail/{inbound_id}/dismiss", data={"_csrf": admin.csrf})
    assert again.headers["location"] == "/agent/inbound-mail?done=gone"  # a second click changes nothing
    async with runtime.sessions() as session:
        trail = list(
            await session.scalars(
                select(AuditEvent.new_value).where(
                    AuditEvent.entity == "inbound_mail", AuditEvent.entity_id == inbound_id
                )
            )
        )
    assert trail == ["dismissed"]
    assert ROW.findall((await client.get("/agent/inbound-mail")).text) == []


async def test_the_raw_message_downloads_exactly_as_it_arrived(
    client: httpx.AsyncClient, runtime: Runtime, sign_in: Any
) -> None:
    inbound_id = await flagged_mail(runtime)
    await sign_in("agent")
    download = await client.get(f"/agent/inbound-mail/{inbound_id}/raw")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("message/rfc822")
    assert download.headers["content-disposition"] == f'attachment; filename="inbound-{inbound_id}.eml"'
    async with runtime.sessions() as session:
        assert download.content == await session.scalar(
            select(InboundMail.raw).where(InboundMail.id == inbound_id)
        )


async def test_the_console_navigation_counts_the_mail_waiting_for_review(
    client: httpx.AsyncClient, runtime: Runtime, clock: FixedClock, sign_in: Any
) -> None:
    agent = await sign_in("agent")
    assert 'id="flagged-mail-count"' not in (await client.get("/agent")).text
    first = await flagged_mail(runtime)
    await held_mail(runtime, "Second")
    clock.advance(timedelta(seconds=30))  # the count is reused for up to 30 seconds
    queue = await client.get("/agent")
    assert re.search(
        r'href="/agent/inbound-mail">Flagged mail <span [^>]*id="flagged-mail-count"[^>]*>2</span>',
        queue.text,
    )
    await client.post(f"/agent/inbound-mail/{first}/dismiss", data={"_csrf": agent.csrf})
    assert re.search(r'id="flagged-mail-count"[^>]*>1</span>', (await client.get("/agent/new")).text)


async def test_technicians_cannot_review_inbound_mail_and_nobody_is_sent_to_sign_in(
    client: httpx.AsyncClient, runtime: Runtime, sign_in: Any
) -> None:
    inbound_id = await flagged_mail(runtime)
    await sign_in("technician")
    assert (await client.get("/agent/inbound-mail")).status_code == 403
    assert (await client.get(f"/agent/inbound-mail/{inbound_id}/raw")).status_code == 403
    client.cookies.clear()
    anonymous = await client.get("/agent/inbound-mail", follow_redirects=False)
    assert anonymous.status_code in (302, 303)
    assert anonymous.headers["location"].startswith("/login")


async def test_a_manager_finds_flagged_mail_in_the_navigation_downloads_it_and_processes_it_again(
    client: httpx.AsyncClient, runtime: Runtime, sign_in: Any
) -> None:
    inbound_id = await held_mail(runtime, "Invoice question")
    manager = await sign_in("manager", name="Mia")
    dashboard = await client.get("/manager")
    assert 'href="/agent/inbound-mail">Flagged mail' in dashboard.text
    listed = await client.get("/agent/inbound-mail")
    assert listed.status_code == 200
    assert ROW.findall(listed.text) == [str(inbound_id)]
    raw = await client.get(f"/agent/inbound-mail/{inbound_id}/raw")
    assert raw.status_code == 200
    assert b"Subject: Invoice question" in raw.content
    done = await client.post(f"/agent/inbound-mail/{inbound_id}/process-again", data={"_csrf": manager.csrf})
    assert done.headers["location"] == "/agent/inbound-mail?done=processing"
    assert await status_of(runtime, inbound_id) in ("pending", "processed")


async def test_the_flagged_mail_page_speaks_russian(
    client: httpx.AsyncClient, runtime: Runtime, sign_in: Any
) -> None:
    await flagged_mail(runtime)
    await sign_in("agent")
    page = await client.get("/agent/inbound-mail", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert "Письма на проверке" in page.text
    assert "Обработать снова" in page.text
    assert "Скачать" in page.text
