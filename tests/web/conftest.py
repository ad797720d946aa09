"""Helpers for the web pages: sign a staff member in through the /login form, read a form's CSRF token."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

import httpx
import pytest

from helpdesk.runtime import Runtime

CSRF = re.compile(r'name="_csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


@dataclass
class WebStaff:
    id: int
    email: str
    password: str
    csrf: str


@pytest.fixture
def sign_in(client: httpx.AsyncClient, runtime: Runtime):  # type: ignore[no-untyped-def]
    """``await sign_in("agent")``: a new staff member signed in on ``client`` through the login form."""
    from helpdesk.accounts.service import AccountService

    async def run(role: str = "agent", name: str | None = None) -> WebStaff:
        password = "correct horse battery"
        email = f"{role}-{secrets.token_hex(3)}@staff.example"
        user = await AccountService(runtime).create_user(
            email=email, name=name or role.title(), role=role, password=password
        )
        client.cookies.clear()
        form = await client.get("/login")
        assert form.status_code == 200
        done = await client.post(
            "/login",
            data={"_csrf": csrf_of(form.text), "email": email, "password": password, "next": ""},
        )
        assert done.status_code == 303, done.text
        page = await client.get("/agent/new" if role != "technician" else "/")
        return WebStaff(user.id, email, password, csrf_of(page.text))

    return run
