"""The services' refusals (English ``detail`` in the API) read in the person's language on the pages: a status
change, an attachment over the limit, an expired sign-in link, a refused dispatch move, an error page."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fieldweb import PlannedDay, move_visit
from webkit import csrf_of

from helpdesk.web.error_text import BY_CODE, MESSAGES, localise
from helpdesk.web.i18n import translations

pytestmark = pytest.mark.integration
RUSSIAN = {"Accept-Language": "ru-RU,ru;q=0.9"}
# The test settings allow 64 KiB per file.
TOO_BIG = b"x" * (65 * 1024)


@pytest.fixture
async def russian_agent(sign_in: Any) -> Any:
    """An agent signed in on the pages who chose Russian in their settings."""
    return await sign_in("agent", language="ru")


@pytest.mark.parametrize("message", MESSAGES)
def test_every_service_message_reads_back_unchanged_in_english_and_has_a_russian_translation(
    message: str,
) -> None:
    names = re.findall(r"%\((\w+)\)s", message)
    sample = message % {name: f"<{name}>" for name in names}
    assert localise(sample, translations("en").gettext) == sample
    russian = localise(sample, translations("ru").gettext)
    assert russian != sample
    assert not re.search(r"\b(the|is|and|of|a|an)\b", russian), russian


def test_every_error_code_has_a_russian_sentence() -> None:
    ru = translations("ru").gettext
    assert all(ru(sentence) != sentence for sentence in BY_CODE.values())


async def test_a_russian_agent_sees_a_refused_status_change_in_russian(
    client: httpx.AsyncClient, agent: Any, open_ticket: Any, russian_agent: Any
) -> None:
    ticket = await open_ticket(agent.headers, customer_email="closed@example.com")
    closed = await client.patch(
        f"/api/v1/tickets/{ticket['id']}",
        json={"version": ticket["version"], "status": "closed"},
        headers=agent.headers,
    )
    assert closed.status_code == 200, closed.text
    refused = await client.post(
        f"/agent/tickets/{ticket['id']}/update",
        data={
            "_csrf": russian_agent.csrf,
            "version": str(closed.json()["version"]),
            "status": "open",
            "shown_status": "closed",
        },
    )
    assert refused.status_code == 422
    assert "Заявку в состоянии «закрыта» нельзя перевести в «в работе»" in refused.text
    api = await client.patch(
        f"/api/v1/tickets/{ticket['id']}",
        json={"version": closed.json()["version"], "status": "open"},
        headers={**agent.headers, **RUSSIAN},
    )
    assert api.json()["detail"].startswith("a closed ticket cannot become open")


async def test_a_russian_customer_sees_a_file_over_the_limit_refused_in_russian(
    client: httpx.AsyncClient, agent: Any, open_ticket: Any
) -> None:
    ticket = await open_ticket(agent.headers, customer_email="files@example.com")
    path = ticket["tracking_url"].split("testserver.local", 1)[1]
    page = await client.get(path, headers=RUSSIAN)
    refused = await client.post(
        f"{path}/reply",
        data={"_csrf": csrf_of(page.text), "body": "Вот фото"},
        files={"attachments": ("photo.jpg", TOO_BIG, "image/jpeg")},
        headers=RUSSIAN,
    )
    assert refused.status_code == 413
    assert "photo.jpg: размер 66560 байт больше допустимого (65536 байт на файл)." in refused.text
    api = await client.post(
        f"/api/v1/tickets/{ticket['id']}/attachments",
        files={"file": ("photo.jpg", TOO_BIG, "image/jpeg")},
        headers={**agent.headers, **RUSSIAN},
    )
    assert api.json()["detail"] == "photo.jpg: 66560 bytes is over the limit of 65536 bytes per file"


async def test_an_expired_sign_in_link_is_refused_in_russian(client: httpx.AsyncClient) -> None:
    page = await client.get("/portal/magic/no-such-link", headers=RUSSIAN)
    assert page.status_code == 401
    assert "Ссылка для входа недействительна или устарела; запросите новую." in page.text


async def test_a_refused_dispatch_move_is_explained_in_russian(
    client: httpx.AsyncClient, planned_day: PlannedDay, russian_agent: Any
) -> None:
    refused = await move_visit(
        client, russian_agent.csrf, planned_day.plan, planned_day.first, planned_day.electric
    )
    assert refused.status_code == 422
    assert f'id="err-{planned_day.first}"><li>не хватает навыков: ' in refused.text


async def test_an_error_page_speaks_the_readers_saved_language(
    client: httpx.AsyncClient, russian_agent: Any
) -> None:
    missing = await client.get("/agent/tickets/987654")
    assert missing.status_code == 404
    assert "Заявка 987654 не найдена." in missing.text
