"""The API for inbound mail waiting for review: list (paged, newest first), raw download, process again,
dismiss; agents, managers and admins only, a clear 4xx for a bad page or a mail that is not flagged any more."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from mailkit import inbound, make_mail

from helpdesk.channels.email.models import InboundSource
from helpdesk.channels.email.service import MailService
from helpdesk.core.clock import FixedClock
from helpdesk.runtime import Runtime

pytestmark = pytest.mark.integration


async def flagged(runtime: Runtime, subject: str) -> int:
    service = MailService(runtime)
    stored = await service.store(
        make_mail(subject=subject, headers={"Auto-Submitted": "auto-replied"}),
        InboundSource.HTTP,
        enqueue=False,
    )
    assert await service.process(stored.id) == "flagged"  # an automatic reply to no known ticket
    return stored.id


async def test_the_flagged_list_is_paged_newest_first_with_sender_subject_and_reason(
    client: httpx.AsyncClient, runtime: Runtime, clock: FixedClock, agent: Any
) -> None:
    ids = []
    for n in range(3):
        ids.append(await flagged(runtime, f"Away {n}"))
        clock.advance(timedelta(minutes=1))
    first = await client.get("/api/v1/mail/inbound/flagged?per_page=2", headers=agent.headers)
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["total"], body["page"], body["has_next"]) == (3, 1, True)
    assert [item["id"] for item in body["items"]] == [ids[2], ids[1]]
    assert body["items"][0]["sender"] == "Anna Petrova <anna@example.com>"
    assert body["items"][0]["subject"] == "Away 2"
    assert body["items"][0]["reason"] == "automatic reply that belongs to no known ticket"
    second = await client.get("/api/v1/mail/inbound/flagged?per_page=2&page=2", headers=agent.headers)
    assert [item["id"] for item in second.json()["items"]] == [ids[0]]


@pytest.mark.parametrize(
    ("query", "name"), [("page=0", "page"), ("per_page=1000", "per_page"), ("page=x", "page")]
)
async def test_a_bad_page_is_refused_naming_the_parameter(
    client: httpx.AsyncClient, agent: Any, query: str, name: str
) -> None:
    response = await client.get(f"/api/v1/mail/inbound/flagged?{query}", headers=agent.headers)
    assert response.status_code == 400
    assert name in response.text


async def test_processing_again_makes_a_held_mail_a_ticket_once_and_a_second_call_is_a_conflict(
    client: httpx.AsyncClient, runtime: Runtime, admin: Any
) -> None:
    service = MailService(runtime)
    stored = await service.store(make_mail(subject="Printer on fire"), InboundSource.SMTP, enqueue=False)
    await service.flag(stored.id, "over the cap of 20 new tickets per sender and day")
    done = await client.post(f"/api/v1/mail/inbound/{stored.id}/process-again", headers=admin.headers)
    assert done.status_code == 200, done.text
    assert done.json() == {"id": stored.id, "old_status": "flagged", "status": "pending"}
    again = await client.post(f"/api/v1/mail/inbound/{stored.id}/process-again", headers=admin.headers)
    assert again.status_code == 409  # pending or processed by now: not flagged any more
    assert again.json()["code"] == "inbound_not_flagged"
    await runtime.queue.drain()  # type: ignore[attr-defined]
    row = await inbound(runtime, stored.id)
    assert (row.status, row.outcome, row.attempts, row.flag_reason) == ("processed", "new_ticket", 1, None)


async def test_dismissing_keeps_the_mail_and_its_raw_message(
    client: httpx.AsyncClient, runtime: Runtime, agent: Any
) -> None:
    inbound_id = await flagged(runtime, "Out of office")
    done = await client.post(f"/api/v1/mail/inbound/{inbound_id}/dismiss", headers=agent.headers)
    assert done.json()["status"] == "dismissed"
    listed = await client.get("/api/v1/mail/inbound/flagged", headers=agent.headers)
    assert listed.json()["total"] == 0
    raw = await client.get(f"/api/v1/mail/inbound/{inbound_id}/raw", headers=agent.headers)
    assert raw.status_code == 200
    assert raw.headers["content-type"].startswith("message/rfc822")
    assert raw.content == (await inbound(runtime, inbound_id)).raw


async def test_technicians_and_nobody_are_kept_out_of_inbound_mail_review(
    client: httpx.AsyncClient, runtime: Runtime, make_staff: Any
) -> None:
    inbound_id = await flagged(runtime, "Out of office")
    technician = await make_staff("technician")
    for method, path in (
        ("GET", "/api/v1/mail/inbound/flagged"),
        ("GET", f"/api/v1/mail/inbound/{inbound_id}/raw"),
        ("POST", f"/api/v1/mail/inbound/{inbound_id}/dismiss"),
        ("POST", f"/api/v1/mail/inbound/{inbound_id}/process-again"),
    ):
        assert (await client.request(method, path, headers=technician.headers)).status_code == 403, path
        assert (await client.request(method, path)).status_code == 401, path
    assert (await inbound(runtime, inbound_id)).status == "flagged"


async def test_a_manager_lists_downloads_and_dismisses_flagged_mail_like_an_agent(
    client: httpx.AsyncClient, runtime: Runtime, make_staff: Any
) -> None:
    inbound_id = await flagged(runtime, "Out of office")
    manager = await make_staff("manager")
    listed = await client.get("/api/v1/mail/inbound/flagged", headers=manager.headers)
    assert [item["id"] for item in listed.json()["items"]] == [inbound_id]
    raw = await client.get(f"/api/v1/mail/inbound/{inbound_id}/raw", headers=manager.headers)
    assert raw.content == (await inbound(runtime, inbound_id)).raw
    done = await client.post(f"/api/v1/mail/inbound/{inbound_id}/dismiss", headers=manager.headers)
    assert done.json()["status"] == "dismissed"


async def test_an_unknown_mail_is_a_404(client: httpx.AsyncClient, agent: Any) -> None:
    for method, path in (
        ("GET", "/api/v1/mail/inbound/999999/raw"),
        ("POST", "/api/v1/mail/inbound/999999/dismiss"),
    ):
        assert (await client.request(method, path, headers=agent.headers)).status_code == 404
