"""The portal's new-request form: a request with its files is stored whole, or not at all."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from helpdesk.tickets.models import Attachment, Ticket

pytestmark = pytest.mark.integration


async def form_token(client):  # type: ignore[no-untyped-def]
    page = await client.get("/")
    match = re.search(r'name="_csrf" value="([^"]+)"', page.text)
    assert match
    return match.group(1)


def fields(token: str) -> dict[str, str]:
    return {
        "_csrf": token,
        "name": "Olga",
        "email": "olga@clinic.example",
        "subject": "Chair leaks oil",
        "description": "Oil under chair 3.",
    }


async def counts(runtime):  # type: ignore[no-untyped-def]
    async with runtime.sessions() as session:
        tickets = await session.scalar(select(func.count()).select_from(Ticket))
        files = await session.scalar(select(func.count()).select_from(Attachment))
    return tickets, files


async def test_request_with_a_photo_opens_a_ticket_with_the_photo_on_its_first_message(client, runtime):  # type: ignore[no-untyped-def]
    token = await form_token(client)
    response = await client.post(
        "/portal/requests",
        data=fields(token),
        files={"attachments": ("chair.jpg", b"\xff\xd8photo", "image/jpeg")},
    )
    assert response.status_code in (302, 303), response.text[:300]
    assert await counts(runtime) == (1, 1)


async def test_request_with_a_file_over_the_limit_is_refused_whole_and_says_why(client, runtime):  # type: ignore[no-untyped-def]
    token = await form_token(client)
    too_big = b"x" * (64 * 1024 + 1)  # the test settings allow 64 KiB per file
    response = await client.post(
        "/portal/requests",
        data=fields(token),
        files={"attachments": ("scan.pdf", too_big, "application/pdf")},
    )
    assert response.status_code == 413
    assert "scan.pdf" in response.text
    assert "Chair leaks oil" in response.text  # the form keeps what the customer typed
    assert await counts(runtime) == (0, 0)


async def test_reply_on_the_tracking_page_with_a_file_over_the_limit_adds_nothing(client, runtime):  # type: ignore[no-untyped-def]
    token = await form_token(client)
    created = await client.post("/portal/requests", data=fields(token))
    tracking_path = created.headers["location"].split("?")[0]
    page = await client.get(tracking_path)
    csrf = re.search(r'name="_csrf" value="([^"]+)"', page.text)
    assert csrf
    before = page.text.count('class="msg')
    assert before >= 1  # the request itself
    response = await client.post(
        f"{tracking_path}/reply",
        data={"_csrf": csrf.group(1), "body": "Here is the scan"},
        files={"attachments": ("scan.pdf", b"x" * (64 * 1024 + 1), "application/pdf")},
    )
    assert response.status_code == 413
    after = (await client.get(tracking_path)).text.count('class="msg')
    assert after == before
    assert await counts(runtime) == (1, 0)
