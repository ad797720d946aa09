"""Fixtures for the web pages: staff signed in through the /login form (in a language and zone of their own if
asked), and field service set up through the API (technicians, jobs, a planned day) for the dispatch pages."""

from __future__ import annotations

import secrets
from dataclasses import asdict

import httpx
import pytest
from fieldweb import FieldDesk, PlannedDay, StaffedDay
from webkit import WebStaff, csrf_of

from helpdesk.runtime import Runtime


@pytest.fixture
def sign_in(client: httpx.AsyncClient, runtime: Runtime):  # type: ignore[no-untyped-def]
    """``await sign_in("agent")``: a new staff member signed in on ``client`` through the login form;
    ``language="ru"`` or ``time_zone="Europe/Moscow"`` saves that setting on /settings as they would."""
    from helpdesk.accounts.service import AccountService

    async def run(
        role: str = "agent", name: str | None = None, *, language: str = "", time_zone: str = ""
    ) -> WebStaff:
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
        me = WebStaff(user.id, email, password, csrf_of(page.text))
        if language or time_zone:
            saved = await client.post(
                "/settings", data={"_csrf": me.csrf, "language": language or "en", "time_zone": time_zone}
            )
            assert saved.status_code == 303, saved.text
        return me

    return run


@pytest.fixture
async def dispatcher(sign_in) -> WebStaff:  # type: ignore[no-untyped-def]
    """An agent signed in on ``client``: the person at the dispatch board."""
    me: WebStaff = await sign_in("agent", name="Dan Dispatcher")
    return me


@pytest.fixture
def field_desk(client, runtime, admin, agent, make_staff, open_ticket) -> FieldDesk:  # type: ignore[no-untyped-def]
    """Technicians, work orders and plans made through the API (see ``fieldweb.FieldDesk``)."""
    return FieldDesk(client, runtime, admin, agent, make_staff, open_ticket)


@pytest.fixture
async def staffed_day(field_desk: FieldDesk) -> StaffedDay:
    """Tom Tech (boiler) and Eve Electric (electrical only) with two boiler jobs on ``fieldweb.DAY``."""
    _, boiler = await field_desk.technician()
    _, electric = await field_desk.technician(name="Eve Electric", skills={"electrical": 1})
    first = await field_desk.work_order()
    second = await field_desk.work_order()
    return StaffedDay(boiler["id"], electric["id"], first["id"], second["id"])


@pytest.fixture
async def planned_day(field_desk: FieldDesk, staffed_day: StaffedDay) -> PlannedDay:
    """The :func:`staffed_day` planned, not published."""
    return PlannedDay(**asdict(staffed_day), plan=await field_desk.plan())
