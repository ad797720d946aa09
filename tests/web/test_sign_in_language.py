"""Signing in brings the person's saved language to the browser's language cookie (``hd_lang``), for staff
through the login form and for customers through the magic link alike, so that pages rendered without knowing
who asks (error pages) speak it too."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from helpdesk.customers.schemas import CustomerCreate
from helpdesk.customers.service import CustomerService
from helpdesk.notifications.models import OutgoingMail
from helpdesk.runtime import Runtime

PASSWORD = "correct horse battery"


async def _magic_link(client: httpx.AsyncClient, runtime: Runtime, *, language: str | None) -> str:
    """A new customer (with ``language`` saved, or none) and the path of the sign-in link mailed to them."""
    created = await CustomerService(runtime).create_customer(
        CustomerCreate(email=f"lang-{language}@example.com", name="Lena", language=language)
    )
    requested = await client.post("/api/v1/auth/magic-link", json={"email": created.email})
    assert requested.status_code == 202, requested.text
    async with runtime.sessions() as session:
        body = await session.scalar(
            select(OutgoingMail.body_text)
            .where(OutgoingMail.to_address == created.email)
            .order_by(OutgoingMail.id.desc())
        )
    assert body is not None
    return "/portal/magic/" + body.rsplit("/portal/magic/", 1)[1].split()[0]


async def test_a_customer_signing_in_by_magic_link_gets_the_language_cookie_of_their_saved_language(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    link = await _magic_link(client, runtime, language="ru")
    redeemed = await client.get(link, follow_redirects=False)
    assert redeemed.status_code in (302, 303), redeemed.text
    assert redeemed.cookies.get("hd_lang") == "ru"
    assert "hd_session" in redeemed.cookies


async def test_a_customer_without_a_saved_language_keeps_the_language_this_browser_chose(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    link = await _magic_link(client, runtime, language=None)
    client.cookies.set("hd_lang", "ru")
    redeemed = await client.get(link, follow_redirects=False)
    assert "hd_session" in redeemed.cookies
    assert not [c for c in redeemed.headers.get_list("set-cookie") if c.startswith("hd_lang=")]


async def test_staff_signing_in_get_the_language_cookie_of_their_saved_language(
    client: httpx.AsyncClient, runtime: Runtime, make_staff: Any, admin: Any
) -> None:
    staff = await make_staff("agent", password=PASSWORD)
    saved = await client.patch(f"/api/v1/users/{staff.id}", json={"language": "ru"}, headers=admin.headers)
    assert saved.status_code == 200, saved.text
    form = await client.get("/login")
    token = form.text.split('name="_csrf" value="', 1)[1].split('"', 1)[0]
    done = await client.post(
        "/login", data={"_csrf": token, "email": staff.email, "password": PASSWORD, "next": ""}
    )
    assert done.status_code == 303, done.text
    assert done.cookies.get("hd_lang") == "ru"
