"""The knowledge base over HTTP: CRUD, versions and diffs, visibility, translations, sanitising, bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kbkit import PRINTER, VPN, Tags, create

pytestmark = pytest.mark.integration


async def test_staff_create_read_update_and_delete_an_article(client, agent) -> None:  # type: ignore[no-untyped-def]
    article = await create(client, agent.headers, **PRINTER)
    assert article["version"] == 1
    assert "<strong>E-1042</strong>" in article["body_html"]

    read = await client.get(f"/api/v1/kb/articles/{article['id']}")
    assert read.status_code == 200
    assert read.json()["counts"]["views"] == 1

    changed = await client.patch(
        f"/api/v1/kb/articles/{article['id']}",
        json={"title": "Printer error E-1042", "version": 1},
        headers=agent.headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2
    stale = await client.patch(
        f"/api/v1/kb/articles/{article['id']}", json={"title": "Again", "version": 1}, headers=agent.headers
    )
    assert stale.status_code == 409
    assert stale.json()["code"] == "stale_version"

    listed = await client.get("/api/v1/kb/articles", params={"tag": "printer"}, headers=agent.headers)
    assert [a["id"] for a in listed.json()["items"]] == [article["id"]]

    deleted = await client.delete(f"/api/v1/kb/articles/{article['id']}", headers=agent.headers)
    assert deleted.status_code == 204
    assert (await client.get(f"/api/v1/kb/articles/{article['id']}")).status_code == 404


async def test_customers_and_anonymous_readers_cannot_write(client, customer_session) -> None:  # type: ignore[no-untyped-def]
    assert (await client.post("/api/v1/kb/articles", json=PRINTER)).status_code == 401
    customer = await customer_session()
    response = await client.post("/api/v1/kb/articles", json=PRINTER, headers=customer.headers)
    assert response.status_code == 403


async def test_every_edit_keeps_a_version_with_its_author_and_a_viewable_diff(client, agent) -> None:  # type: ignore[no-untyped-def]
    article = await create(client, agent.headers, **PRINTER)
    path = f"/api/v1/kb/articles/{article['id']}"
    await client.patch(
        path, json={"body": PRINTER["body"] + "\n\nCall us if it persists."}, headers=agent.headers
    )
    await client.patch(path, json={"tags": ["printer"]}, headers=agent.headers)
    unchanged = await client.patch(path, json={"tags": ["printer"]}, headers=agent.headers)
    assert unchanged.json()["version"] == 3

    versions = (await client.get(f"{path}/versions", headers=agent.headers)).json()
    assert [v["version"] for v in versions] == [3, 2, 1]
    assert all(v["edited_by_id"] == agent.id and v["created_at"] for v in versions)

    diff = await client.get(f"{path}/diff", params={"from": 1, "to": 2}, headers=agent.headers)
    assert diff.status_code == 200
    assert "+Call us if it persists." in diff.json()["diff"]
    assert (
        await client.get(f"{path}/diff", params={"from": 1, "to": 9}, headers=agent.headers)
    ).status_code == 404
    assert (await client.get(f"{path}/versions")).status_code == 401


async def test_a_customer_never_sees_internal_or_unpublished_articles(
    client, agent, customer_session
) -> None:  # type: ignore[no-untyped-def]
    public = await create(client, agent.headers, **PRINTER)
    internal = await create(client, agent.headers, **VPN)
    draft = await create(
        client,
        agent.headers,
        **{**VPN, "title": "VPN gateway token draft", "visibility": "public", "status": "draft"},
    )
    customer = await customer_session()

    for headers in ({}, customer.headers):
        listed = await client.get("/api/v1/kb/articles", headers=headers)
        assert [a["id"] for a in listed.json()["items"]] == [public["id"]]
        for hidden in (internal, draft):
            assert (
                await client.get(f"/api/v1/kb/articles/{hidden['id']}", headers=headers)
            ).status_code == 404
        searched = await client.get("/api/v1/kb/search", params={"q": "VPN gateway token"}, headers=headers)
        assert searched.json()["items"] == []
        suggested = await client.get(
            "/api/v1/kb/suggest", params={"q": "reset VPN gateway token"}, headers=headers
        )
        assert suggested.json() == []

    staff = await client.get("/api/v1/kb/search", params={"q": "VPN gateway token"}, headers=agent.headers)
    assert [hit["article"]["id"] for hit in staff.json()["items"]] == [internal["id"]]
    printer = await client.get("/api/v1/kb/suggest", params={"q": "printer error E1042"})
    assert [s["id"] for s in printer.json()] == [public["id"]]
    assert printer.json()[0]["url"].endswith(f"/portal/kb/{public['id']}")


async def test_translations_are_linked_both_ways_one_per_language(client, agent) -> None:  # type: ignore[no-untyped-def]
    english = await create(client, agent.headers, **PRINTER)
    russian = await create(
        client,
        agent.headers,
        title="Принтер показывает ошибку E-1042",
        body="Если принтер показывает E-1042, в нём застряла бумага.",
        language="ru",
        status="published",
        translation_of=english["id"],
    )
    assert [t["id"] for t in russian["translations"]] == [english["id"]]
    again = await client.get(f"/api/v1/kb/articles/{english['id']}")
    assert [(t["id"], t["language"]) for t in again.json()["translations"]] == [(russian["id"], "ru")]

    twice = await client.post(
        "/api/v1/kb/articles",
        json={"title": "Другой", "body": "Текст", "language": "ru", "translation_of": english["id"]},
        headers=agent.headers,
    )
    assert twice.status_code == 409
    ru_only = await client.get("/api/v1/kb/search", params={"q": "принтера ошибка", "language": "ru"})
    assert [hit["article"]["id"] for hit in ru_only.json()["items"]] == [russian["id"]]


async def test_raw_html_and_scripts_in_markdown_never_survive(client, agent) -> None:  # type: ignore[no-untyped-def]
    body = (
        "<script>alert('x')</script>\n\n<img src=x onerror=alert(1)>\n\n"
        "[click](javascript:alert(1)) [ok](https://example.com) <a href='javascript:alert(2)'>a</a>"
    )
    article = await create(client, agent.headers, title="Unsafe", body=body)
    html = article["body_html"]
    tags = Tags()
    tags.feed(html)
    assert {tag for tag, _ in tags.seen} <= {"p", "a"}
    assert [attrs for tag, attrs in tags.seen if tag == "a"] == [
        {"href": "https://example.com", "rel": "noopener noreferrer nofollow"}
    ]
    assert '<a href="https://example.com" rel="noopener noreferrer nofollow">ok</a>' in html
    assert article["body"] == body  # the source is kept as written


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**PRINTER, "language": "de"}, "language"),
        ({**PRINTER, "status": "live"}, "status"),
        ({**PRINTER, "title": ""}, "title"),
        ({**PRINTER, "secret": 1}, "secret"),
    ],
)
async def test_bad_article_input_is_a_4xx_naming_the_field(client, agent, body, field) -> None:  # type: ignore[no-untyped-def]
    response = await client.post("/api/v1/kb/articles", json=body, headers=agent.headers)
    assert response.status_code in (400, 422), response.text
    assert response.json()["field"] == field
    if field == "language":
        assert response.status_code == 422


async def raw_get(app: Any, path: str, query: bytes) -> tuple[int, dict[str, Any]]:
    """GET straight through ASGI: httpx refuses URLs over 64 KiB, a client on the internet may not."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": query, "root_path": "",
        "headers": [(b"host", b"testserver.local")], "client": ("127.0.0.1", 1), "server": ("testserver.local", 80),
    }  # fmt: skip
    await app(scope, receive, send)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], json.loads(body)


async def test_empty_and_one_megabyte_queries_get_a_clean_answer(app, client, agent) -> None:  # type: ignore[no-untyped-def]
    await create(client, agent.headers, **PRINTER)
    for path in ("/api/v1/kb/suggest", "/api/v1/kb/search"):
        empty = await client.get(path, params={"q": ""})
        assert empty.status_code == 200
        assert empty.json() in ([], {"items": [], "complete": True})
        status, body = await raw_get(app, path, b"q=" + b"printer+" * 131_072)
        assert status == 400
        assert body["field"] == "q"
        assert (await client.get(path, params={"q": "x", "language": "xx"})).status_code == 422


async def test_feedback_and_deflection_are_counted_without_a_ticket(client, agent, runtime) -> None:  # type: ignore[no-untyped-def]
    article = await create(client, agent.headers, **PRINTER)
    path = f"/api/v1/kb/articles/{article['id']}"
    await client.post(f"{path}/feedback", json={"helpful": True})
    await client.post(f"{path}/feedback", json={"helpful": False})
    solved = await client.post(f"{path}/deflect")
    assert solved.status_code == 201
    counts = solved.json()["counts"]
    assert (counts["helpful"], counts["not_helpful"], counts["deflections"]) == (2, 1, 1)
    tickets = await client.get("/api/v1/tickets", headers=agent.headers)
    assert tickets.json()["total"] == 0
    hidden = await create(client, agent.headers, **VPN)
    assert (await client.post(f"/api/v1/kb/articles/{hidden['id']}/deflect")).status_code == 404


async def test_the_suggest_endpoint_is_rate_limited_per_client(client, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from knowledge_base import api

    monkeypatch.setattr(api, "SUGGEST_RATE_PER_MINUTE", 3)
    statuses = [
        (await client.get("/api/v1/kb/suggest", params={"q": "printer"})).status_code for _ in range(5)
    ]
    assert statuses == [200, 200, 200, 429, 429]
