"""Knowledge-base categories in the administration pages: create, rename (the articles follow), nest,
reorder, delete; a refusal is shown next to the field it concerns, in English or Russian."""

from __future__ import annotations

import re
from typing import Any

import httpx

PAGE = "/admin/kb-categories"


def _row_order(html: str) -> list[str]:
    return re.findall(r'<tr id="c\d+"[^>]*>.*?name="name" form="[^"]*" value="([^"]+)"', html, flags=re.S)


def _id_of(html: str, name: str) -> int:
    match = re.search(
        rf'<tr id="c(\d+)"[^>]*>(?:(?!</tr>).)*?name="name"[^>]*value="{re.escape(name)}"', html, re.S
    )
    assert match, f"no row for {name}"
    return int(match.group(1))


async def _create(
    client: httpx.AsyncClient, csrf: str, name: str, parent_id: int | str = ""
) -> httpx.Response:
    return await client.post(PAGE, data={"_csrf": csrf, "name": name, "parent_id": str(parent_id)})


async def _article(client: httpx.AsyncClient, headers: dict[str, str], category: str) -> dict[str, Any]:
    body = {"title": f"About {category}", "body": "Text.", "category": category, "status": "published"}
    response = await client.post("/api/v1/kb/articles", json=body, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def test_admin_creates_nests_and_reorders_categories(client: httpx.AsyncClient, sign_in: Any) -> None:
    admin = await sign_in("admin")
    for name in ("Hardware", "Software"):
        assert (await _create(client, admin.csrf, name)).status_code == 303
    page = (await client.get(PAGE)).text
    hardware = _id_of(page, "Hardware")
    nested = await _create(client, admin.csrf, "Printers", hardware)
    assert nested.status_code == 303
    assert _row_order((await client.get(PAGE)).text) == ["Hardware", "Printers", "Software"]

    software = _id_of(page, "Software")
    moved = await client.post(f"{PAGE}/{software}/move", data={"_csrf": admin.csrf, "direction": "up"})
    assert moved.status_code == 303
    assert _row_order((await client.get(PAGE)).text) == ["Software", "Hardware", "Printers"]


async def test_renaming_a_category_renames_it_on_its_articles(
    client: httpx.AsyncClient, sign_in: Any, admin: Any
) -> None:
    article = await _article(client, admin.headers, "Printing")
    me = await sign_in("admin")
    page = (await client.get(PAGE)).text
    assert "Used by articles, not in the list" in page
    assert (await _create(client, me.csrf, "Printing")).status_code == 303
    printing = _id_of((await client.get(PAGE)).text, "Printing")
    renamed = await client.post(
        f"{PAGE}/{printing}", data={"_csrf": me.csrf, "name": "Printers", "parent_id": ""}
    )
    assert renamed.status_code == 303
    after = (await client.get(f"/api/v1/kb/articles/{article['id']}", headers=admin.headers)).json()
    assert after["category"] == "Printers"
    assert after["version"] == article["version"] + 1


async def test_a_category_in_use_is_not_deleted_and_the_page_says_why(
    client: httpx.AsyncClient, sign_in: Any, admin: Any
) -> None:
    await _article(client, admin.headers, "Network")
    me = await sign_in("admin")
    await _create(client, me.csrf, "Network")
    await _create(client, me.csrf, "Unused")
    page = (await client.get(PAGE)).text
    network, unused = _id_of(page, "Network"), _id_of(page, "Unused")
    refused = await client.post(f"{PAGE}/{network}/delete", data={"_csrf": me.csrf})
    assert refused.status_code == 422
    assert (
        f'id="c{network}-error">1 article uses this category: move it to another category first.'
        in refused.text
    )
    deleted = await client.post(f"{PAGE}/{unused}/delete", data={"_csrf": me.csrf})
    assert deleted.status_code == 303
    assert "Unused" not in (await client.get(PAGE)).text


async def test_a_taken_or_too_long_name_is_named_next_to_the_name_field(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    me = await sign_in("admin")
    await _create(client, me.csrf, "Hardware")
    taken = await _create(client, me.csrf, "hardware")
    assert taken.status_code == 422
    assert 'id="new-name-error">A category with this name exists already.</p>' in taken.text
    assert 'value="hardware" required aria-invalid="true"' in taken.text
    long = await _create(client, me.csrf, "x" * 101)
    assert long.status_code == 422
    assert 'id="new-name-error">at most 100 characters</p>' in long.text


async def test_a_category_cannot_be_nested_under_its_own_subcategory(
    client: httpx.AsyncClient, sign_in: Any
) -> None:
    me = await sign_in("admin")
    await _create(client, me.csrf, "Hardware")
    hardware = _id_of((await client.get(PAGE)).text, "Hardware")
    await _create(client, me.csrf, "Printers", hardware)
    printers = _id_of((await client.get(PAGE)).text, "Printers")
    cycle = await client.post(
        f"{PAGE}/{hardware}", data={"_csrf": me.csrf, "name": "Hardware", "parent_id": str(printers)}
    )
    assert cycle.status_code == 422
    assert f'id="c{hardware}-parent_id-error">A category cannot be nested' in cycle.text


async def test_refusals_are_in_russian_for_a_russian_reader(client: httpx.AsyncClient, sign_in: Any) -> None:
    me = await sign_in("admin")
    client.cookies.set("hd_lang", "ru")
    await _create(client, me.csrf, "Hardware")
    taken = await _create(client, me.csrf, "Hardware")
    assert 'id="new-name-error">Категория с таким названием уже есть.</p>' in taken.text
    long = await _create(client, me.csrf, "x" * 101)
    assert 'id="new-name-error">не длиннее 100 символов</p>' in long.text
    assert "Категории базы знаний" in long.text


async def test_only_admins_administer_categories(client: httpx.AsyncClient, sign_in: Any) -> None:
    agent = await sign_in("agent")
    assert (await client.get(PAGE)).status_code == 403
    assert (await _create(client, agent.csrf, "Sneaky")).status_code == 403
