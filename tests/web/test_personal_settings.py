"""A person's own settings page (staff and portal customers): language and time zone, saved on the person; the
saved language wins over the switch's cookie and the browser; the header's switch saves it."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration


def csrf_of(html: str) -> str:
    found = re.search(r'name="_csrf" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


async def _save(client: httpx.AsyncClient, csrf: str, **fields: str) -> httpx.Response:
    return await client.post("/settings", data={"_csrf": csrf, "language": "", "time_zone": "", **fields})


async def test_staff_member_saves_language_and_time_zone_and_the_pages_follow_them(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    me = await sign_in("agent")
    saved = await _save(client, me.csrf, language="ru", time_zone="Europe/Berlin")
    assert saved.status_code == 303, saved.text
    page = await client.get(saved.headers["location"])
    assert '<html lang="ru">' in page.text
    assert "Настройки сохранены." in page.text
    assert '<option value="ru" lang="ru" selected>' in page.text
    assert 'value="Europe/Berlin"' in page.text
    # The clock stands at 09:00 UTC: 10:00 in Berlin in winter.
    assert "10:00:00 CET" in page.text


async def test_an_unknown_time_zone_is_refused_next_to_the_field_in_the_persons_language(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    me = await sign_in("agent")
    assert (await _save(client, me.csrf, language="ru")).status_code == 303
    refused = await _save(client, me.csrf, language="ru", time_zone="Mars/Olympus_Mons")
    assert refused.status_code == 422
    assert (
        'id="set-time_zone-error">Неизвестный часовой пояс &#39;Mars/Olympus_Mons&#39;; укажите название IANA'
        in refused.text
    )
    assert 'value="Mars/Olympus_Mons"' in refused.text


async def test_a_portal_customer_saves_settings_on_their_customer_record(
    client: httpx.AsyncClient, customer_session: Any, agent: Any
) -> None:
    customer = await customer_session()
    cookies = {"Cookie": f"hd_session={customer.cookie}"}
    form = await client.get("/settings", headers=cookies)
    assert form.status_code == 200
    assert 'href="/settings" aria-current="page"' in form.text
    saved = await client.post(
        "/settings",
        data={"_csrf": csrf_of(form.text), "language": "ru", "time_zone": "Asia/Vladivostok"},
        headers=cookies,
    )
    assert saved.status_code == 303, saved.text
    record = await client.get(f"/api/v1/customers/{customer.customer_id}", headers=agent.headers)
    assert (record.json()["language"], record.json()["time_zone"]) == ("ru", "Asia/Vladivostok")


async def test_the_saved_language_wins_over_the_language_cookie_and_the_browser(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    me = await sign_in("agent")
    assert (await _save(client, me.csrf, language="en")).status_code == 303
    client.cookies.set("hd_lang", "ru")
    page = await client.get("/settings", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert '<html lang="en">' in page.text


async def test_a_person_without_a_saved_language_gets_the_browsers(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    await sign_in("agent")
    page = await client.get("/settings", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert '<html lang="ru">' in page.text
    assert '<option value="" selected>Как в моём браузере</option>' in page.text


async def test_the_header_switch_saves_the_signed_in_persons_language(
    client: httpx.AsyncClient, sign_in: Any, admin: Any
) -> None:
    me = await sign_in("agent")
    queue = await client.get("/agent")
    assert 'action="/settings/language"' in queue.text
    switched = await client.post(
        "/settings/language", data={"_csrf": me.csrf, "language": "ru", "next": "/agent"}
    )
    assert (switched.status_code, switched.headers["location"]) == (303, "/agent")
    client.cookies.delete("hd_lang")
    assert '<html lang="ru">' in (await client.get("/agent")).text
    user = await client.get(f"/api/v1/users/{me.id}", headers=admin.headers)
    assert user.json()["language"] == "ru"


async def test_the_settings_page_sends_nobody_to_sign_in(client: httpx.AsyncClient) -> None:
    page = await client.get("/settings", follow_redirects=False)
    assert page.status_code in (302, 303)
    assert page.headers["location"].startswith("/login")


async def test_the_api_refuses_an_unknown_time_zone_naming_the_field(
    client: httpx.AsyncClient, customer_session: Any, admin: Any
) -> None:
    customer = await customer_session()
    patched = await client.patch(
        f"/api/v1/customers/{customer.customer_id}", json={"time_zone": "Nowhere/City"}, headers=admin.headers
    )
    assert patched.status_code == 422
    assert patched.json()["field"] == "time_zone"
    assert patched.json()["detail"].startswith("time_zone: unknown time zone 'Nowhere/City'")
