"""Administration pages: forms reuse the API's rules and show a rejected value next to its field."""

from __future__ import annotations

from typing import Any

import httpx


async def test_admin_creates_a_user_and_a_bad_e_mail_is_named_next_to_its_field(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    admin = await sign_in("admin")
    page = await client.get("/admin")
    assert page.status_code == 200
    bad = await client.post(
        "/admin/users", data={"_csrf": admin.csrf, "name": "Nina", "email": "not-an-address", "role": "agent"}
    )
    assert bad.status_code == 422
    assert 'value="not-an-address" required aria-invalid="true"' in bad.text
    assert 'id="user-email-error">not a valid e-mail address</p>' in bad.text
    good = await client.post(
        "/admin/users",
        data={"_csrf": admin.csrf, "name": "Nina", "email": "nina@example.com", "role": "agent"},
    )
    assert good.status_code == 303
    assert "nina@example.com" in (await client.get("/admin")).text


async def test_calendar_with_an_unknown_time_zone_is_refused_at_the_time_zone_field(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    admin = await sign_in("admin")
    form = {
        "_csrf": admin.csrf,
        "name": "Moscow office",
        "timezone": "Mars/Olympus",
        "week_mon": "09:00-18:00",
    }
    bad = await client.post("/admin/sla/calendar", data=form)
    assert bad.status_code == 422, bad.text
    assert 'id="calendar-timezone-error">' in bad.text
    assert "unknown time zone" in bad.text.split('id="calendar-timezone-error">', 1)[1].split("</p>", 1)[0]
    good = await client.post("/admin/sla/calendar", data={**form, "timezone": "Europe/Moscow"})
    assert good.status_code == 303, good.text
    policy = await client.post(
        "/admin/sla/policy",
        data={
            "_csrf": admin.csrf,
            "name": "Standard",
            "calendar_id": "1",
            "P1_first_response_minutes": "-5",
        },
    )
    assert policy.status_code == 422
    assert 'id="policy-P1_first_response_minutes-error">must be at least 1</p>' in policy.text


async def test_agents_are_kept_out_of_administration(client: httpx.AsyncClient, sign_in: Any) -> None:
    await sign_in("agent")
    assert (await client.get("/admin")).status_code == 403
