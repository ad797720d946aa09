"""Administration of technicians and mailboxes: validation messages next to the field, the calendar URL
shown once, and the pages refused to anyone but an admin."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fieldweb import make_skill

pytestmark = pytest.mark.integration

WEEK = {f"week_{d}": "08:00-17:00" for d in ("mon", "tue", "wed", "thu", "fri")}


async def test_admin_makes_a_technician_plannable_with_errors_next_to_the_field_and_rotates_the_feed(
    client: httpx.AsyncClient, admin: Any, make_staff: Any, sign_in: Any
) -> None:
    await make_skill(client, admin, "boiler")
    tech = await make_staff("technician", name="Tom Tech")
    me = await sign_in("admin")
    page = await client.get("/admin/technicians")
    assert page.status_code == 200
    assert "Tom Tech" in page.text
    base = {"_csrf": me.csrf, "user_id": str(tech.id), "home_lat": "52.5", "home_lon": "13.4", **WEEK}
    cases = [
        ({"home_lat": "123"}, "tech-home_lat-error", "must be at most 90"),
        ({"skills": "plumbing:1"}, "tech-skills-error", "plumbing"),
        ({"week_mon": "17:00-08:00"}, "tech-week_mon-error", ""),
        ({"lunch_window": "12:00-12:10", "lunch_minutes": "30"}, "tech-lunch_minutes-error", "do not fit"),
    ]
    for change, error_id, words in cases:
        bad = await client.post("/admin/technicians", data={**base, **change})
        assert bad.status_code == 422, change
        message = bad.text.split(f'id="{error_id}">', 1)[1].split("</p>", 1)[0]
        assert message, change
        assert words in message, message
    made = await client.post(
        "/admin/technicians", data={**base, "skills": "boiler:2", "lunch_window": "12:00-14:00"}
    )
    assert made.status_code == 200
    assert "/dispatch/ical/" in made.text
    assert "shown only once" in made.text
    listed = await client.get("/admin/technicians")
    assert "/dispatch/ical/" not in listed.text
    assert "boiler:2" in listed.text
    techs = (await client.get("/api/v1/dispatch/technicians", headers=admin.headers)).json()
    rotated = await client.post(f"/admin/technicians/{techs[0]['id']}/ical-token", data={"_csrf": me.csrf})
    assert "/dispatch/ical/" in rotated.text
    update = await client.post(
        f"/admin/technicians/{techs[0]['id']}",
        data={
            "_csrf": me.csrf,
            **{k: v for k, v in base.items() if k != "user_id"},
            "daily_limit_minutes": "0",
        },
    )
    assert update.status_code == 422
    assert f'id="t{techs[0]["id"]}-daily_limit_minutes-error">must be at least 1</p>' in update.text


async def test_admin_adds_a_mailbox_and_a_bad_port_or_a_taken_name_is_named_at_its_field(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    me = await sign_in("admin")
    assert (await client.get("/admin/mailboxes")).status_code == 200
    base = {
        "_csrf": me.csrf,
        "name": "Support",
        "host": "imap.example.com",
        "username": "s",
        "password": "pw",
    }
    bad_port = await client.post("/admin/mailboxes", data={**base, "port": "70000"})
    assert bad_port.status_code == 422
    assert 'id="mb-port-error">must be at most 65535</p>' in bad_port.text
    no_password = await client.post("/admin/mailboxes", data={**base, "password": ""})
    assert 'id="mb-password-error">at least 1 characters</p>' in no_password.text
    assert (await client.post("/admin/mailboxes", data=base)).status_code == 303
    taken = await client.post("/admin/mailboxes", data=base)
    assert taken.status_code == 422
    assert 'id="mb-name-error">a mailbox is named &#39;Support&#39; already</p>' in taken.text
    page = await client.get("/admin/mailboxes")
    assert "imap.example.com:993" in page.text
    assert "pw" not in page.text.split("<main", 1)[1].split("Add a mailbox", 1)[0]


@pytest.mark.parametrize("role", ["agent", "manager", "technician"])
async def test_field_admin_pages_are_refused_to_everyone_but_admins(
    client: httpx.AsyncClient, sign_in: Any, role: str
) -> None:
    await sign_in(role)
    for path in ("/admin/technicians", "/admin/mailboxes"):
        assert (await client.get(path)).status_code == 403
