"""Refused administration and canned-response forms: the page comes again (422, no JavaScript needed) with
each message next to the input it concerns, in English and in Russian, and with what was typed or chosen."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration

TARGETS = {f"P{n}_{kind}_minutes": "60" for n in range(1, 5) for kind in ("first_response", "resolution")}
WEEK = {f"week_{day}": "08:00-17:00" for day in ("mon", "tue", "wed", "thu", "fri")}


def error_at(html: str, error_id: str) -> str:
    """The message of the field-error paragraph ``error_id``."""
    found = re.search(rf'id="{re.escape(error_id)}"[^>]*>([^<]*)</p>', html)
    assert found, f"no {error_id} on the page"
    return found.group(1)


@pytest.fixture
async def admin_page(client: httpx.AsyncClient, sign_in: Any) -> Any:
    """``await admin_page(language)``: an admin signed in who reads pages in ``language``; returns the CSRF
    token of the forms."""

    async def run(language: str = "en") -> str:
        me = await sign_in("admin")
        client.cookies.set("hd_lang", language)
        csrf: str = me.csrf
        return csrf

    return run


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "a group named &#39;Billing&#39; exists already"),
        ("ru", "Группа с названием &#39;Billing&#39; уже есть."),
    ],
)
async def test_a_taken_group_name_is_refused_at_the_name_in_the_readers_language(
    client: httpx.AsyncClient, admin_page: Any, language: str, message: str
) -> None:
    csrf = await admin_page(language)
    assert (await client.post("/admin/groups", data={"_csrf": csrf, "name": "Billing"})).status_code == 303
    again = await client.post(
        "/admin/groups", data={"_csrf": csrf, "name": "Billing", "email": "b@example.com"}
    )
    assert again.status_code == 422
    assert error_at(again.text, "group-name-error") == message
    assert 'value="b@example.com"' in again.text


async def test_a_refused_role_change_is_named_at_that_users_row(
    client: httpx.AsyncClient, admin_page: Any, make_staff: Any
) -> None:
    csrf = await admin_page()
    agent = await make_staff("agent")
    refused = await client.post(f"/admin/users/{agent.id}", data={"_csrf": csrf, "role": "boss"})
    assert refused.status_code == 422
    assert error_at(refused.text, f"role-{agent.id}-error") == "Invalid enum value &#39;boss&#39;"
    assert f'name="role" aria-invalid="true" aria-describedby="role-{agent.id}-error"' in refused.text


async def test_unknown_group_members_are_refused_at_the_groups_members_in_russian(
    client: httpx.AsyncClient, admin_page: Any, admin: Any
) -> None:
    group = await client.post("/api/v1/groups", json={"name": "Field"}, headers=admin.headers)
    csrf = await admin_page("ru")
    refused = await client.post(
        f"/admin/groups/{group.json()['id']}", data={"_csrf": csrf, "member_ids": "999999"}
    )
    assert refused.status_code == 422
    assert (
        error_at(refused.text, f"group-{group.json()['id']}-member_ids-error")
        == "Выберите сотрудников из списка."
    )


async def test_a_calendar_without_working_hours_is_refused_at_the_working_hours(
    client: httpx.AsyncClient, admin_page: Any
) -> None:
    csrf = await admin_page()
    refused = await client.post("/admin/sla/calendar", data={"_csrf": csrf, "name": "Closed"})
    assert refused.status_code == 422
    assert error_at(refused.text, "calendar-week-error").startswith("no working hours on any day")
    assert '<fieldset aria-describedby="calendar-week-error">' in refused.text


@pytest.mark.parametrize(
    ("change", "error_id", "english", "russian"),
    [
        (
            {"calendar_id": "999999"},
            "policy-calendar_id-error",
            "Choose a calendar from the list.",
            "Выберите календарь из списка.",
        ),
        (
            {"warning_percent": "150"},
            "policy-warning_percent-error",
            "must be less than 100",
            "должно быть меньше 100",
        ),
        (
            {"P2_resolution_minutes": "0"},
            "policy-P2_resolution_minutes-error",
            "must be at least 1",
            "не меньше 1",
        ),
    ],
)
async def test_a_refused_policy_names_the_field_in_english_and_russian(
    client: httpx.AsyncClient,
    admin_page: Any,
    change: dict[str, str],
    error_id: str,
    english: str,
    russian: str,
) -> None:
    for language, message in (("en", english), ("ru", russian)):
        csrf = await admin_page(language)
        form = {"_csrf": csrf, "name": "Gold", "calendar_id": "999999", **TARGETS, **change}
        refused = await client.post("/admin/sla/policy", data=form)
        assert refused.status_code == 422, language
        assert error_at(refused.text, error_id) == message


async def test_a_contract_without_its_start_is_refused_there_and_keeps_the_chosen_policy(
    client: httpx.AsyncClient, admin_page: Any
) -> None:
    csrf = await admin_page("ru")
    made = await client.post(
        "/admin/sla/calendar", data={"_csrf": csrf, "name": "Office", "week_mon": "09:00-17:00"}
    )
    assert made.status_code == 303, made.text
    calendar_id = re.search(r'<option value="(\d+)">Office</option>', (await client.get("/admin/sla")).text)
    assert calendar_id
    for name in ("Silver", "Gold"):
        policy = {"_csrf": csrf, "name": name, "calendar_id": calendar_id.group(1), **TARGETS}
        assert (await client.post("/admin/sla/policy", data=policy)).status_code == 303
    gold = re.search(r'<option value="(\d+)">Gold</option>', (await client.get("/admin/sla")).text)
    assert gold
    refused = await client.post(
        "/admin/sla/contract",
        data={"_csrf": csrf, "name": "Acme", "policy_id": gold.group(1), "valid_from": ""},
    )
    assert refused.status_code == 422
    assert error_at(refused.text, "contract-valid_from-error") == "обязательно"
    assert f'<option value="{gold.group(1)}" selected>Gold</option>' in refused.text
    no_organisation = await client.post(
        "/admin/sla/contract",
        data={"_csrf": csrf, "name": "Acme", "policy_id": gold.group(1), "valid_from": "2027-01-01"},
    )
    assert error_at(no_organisation.text, "contract-organisation_id-error") == (
        "Выберите организацию, для которой заключён договор."
    )


async def test_a_technician_set_up_meanwhile_is_named_although_no_user_is_left_to_choose(
    client: httpx.AsyncClient, admin_page: Any, make_staff: Any
) -> None:
    tech = await make_staff("technician", name="Tom Tech")
    csrf = await admin_page("ru")
    form = {"_csrf": csrf, "user_id": str(tech.id), "home_lat": "52.5", "home_lon": "13.4", **WEEK}
    assert (await client.post("/admin/technicians", data=form)).status_code == 200
    again = await client.post("/admin/technicians", data=form)
    assert again.status_code == 422
    assert error_at(again.text, "tech-user_id-error") == f"Сотрудник {tech.id} уже настроен как техник."


async def test_a_lunch_longer_than_its_window_is_refused_at_the_lunch_minutes_in_russian(
    client: httpx.AsyncClient, admin_page: Any, make_staff: Any
) -> None:
    tech = await make_staff("technician")
    csrf = await admin_page("ru")
    form = {"_csrf": csrf, "user_id": str(tech.id), "home_lat": "52.5", "home_lon": "13.4", **WEEK}
    refused = await client.post(
        "/admin/technicians", data={**form, "lunch_window": "12:00-12:10", "lunch_minutes": "30"}
    )
    assert refused.status_code == 422
    assert (
        error_at(refused.text, "tech-lunch_minutes-error")
        == "30 мин. обеда не помещаются в окно 12:00-12:10."
    )


async def test_a_taken_mailbox_name_is_refused_at_the_name_in_russian(
    client: httpx.AsyncClient, admin_page: Any
) -> None:
    csrf = await admin_page("ru")
    form = {"_csrf": csrf, "name": "Support", "host": "imap.example.com", "username": "s", "password": "pw"}
    assert (await client.post("/admin/mailboxes", data=form)).status_code == 303
    taken = await client.post("/admin/mailboxes", data=form)
    assert taken.status_code == 422
    assert error_at(taken.text, "mb-name-error") == "Почтовый ящик с названием &#39;Support&#39; уже есть."


async def test_an_agents_shared_response_is_refused_at_the_shared_box_in_russian(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    me = await sign_in("agent")
    client.cookies.set("hd_lang", "ru")
    refused = await client.post(
        "/agent/canned", data={"_csrf": me.csrf, "title": "Hi", "body": "x", "shared": "yes"}
    )
    assert refused.status_code == 422
    assert (
        error_at(refused.text, "new-shared-error") == "Общие шаблоны ведут только менеджеры и администраторы."
    )
    assert 'value="Hi"' in refused.text


async def test_saving_a_canned_response_deleted_meanwhile_says_so_on_the_page(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    me = await sign_in("agent")
    made = await client.post("/agent/canned", data={"_csrf": me.csrf, "title": "Hi", "body": "x"})
    assert made.status_code == 303
    canned_id = re.search(r'action="/agent/canned/(\d+)"', (await client.get("/agent/canned")).text)
    assert canned_id
    await client.post(f"/agent/canned/{canned_id.group(1)}/delete", data={"_csrf": me.csrf})
    saved = await client.post(
        f"/agent/canned/{canned_id.group(1)}", data={"_csrf": me.csrf, "title": "Hello", "body": "x"}
    )
    assert saved.status_code == 422
    assert '<p class="error" role="alert">This canned response no longer exists.</p>' in saved.text
