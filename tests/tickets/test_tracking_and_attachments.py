"""The public tracking link and attachments: what is shown to whom, limits, safe names and safe downloads."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def token_of(ticket):  # type: ignore[no-untyped-def]
    return ticket["tracking_url"].rsplit("/", 1)[-1]


async def upload(client, who, ticket, name="report.txt", data=b"hello", content_type="text/plain", **form):  # type: ignore[no-untyped-def]
    return await client.post(
        f"/api/v1/tickets/{ticket['id']}/attachments",
        files={"file": (name, data, content_type)},
        data={k: str(v) for k, v in form.items()},
        headers=who.headers,
    )


async def internal_note(client, agent, ticket, body="customer is on the old firmware"):  # type: ignore[no-untyped-def]
    response = await client.post(
        f"/api/v1/tickets/{ticket['id']}/messages",
        json={"body": body, "kind": "internal_note"},
        headers=agent.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()["message_id"]


async def test_the_tracking_link_shows_that_ticket_and_its_public_conversation_only(
    client, agent, open_ticket
):  # type: ignore[no-untyped-def]
    mine = await open_ticket(agent.headers, customer_email="anna@example.com", subject="VPN down")
    await open_ticket(agent.headers, customer_email="boris@example.com", subject="Printer on fire")
    await client.post(
        f"/api/v1/tickets/{mine['id']}/messages", json={"body": "Restart it"}, headers=agent.headers
    )
    await internal_note(client, agent, mine, "secret: she forgot to pay")
    response = await client.get(f"/api/v1/track/{token_of(mine)}")
    assert response.status_code == 200, response.text
    view = response.json()
    assert (view["reference"], view["subject"]) == (mine["reference"], "VPN down")
    assert [m["kind"] for m in view["messages"]] == ["customer_message", "public_reply"]
    assert "secret" not in response.text
    assert "Printer on fire" not in response.text


async def test_the_tracking_link_hides_attachments_of_internal_notes(client, agent, open_ticket):  # type: ignore[no-untyped-def]
    ticket = await open_ticket(agent.headers, customer_email="anna@example.com")
    note_id = await internal_note(client, agent, ticket)
    hidden = await upload(client, agent, ticket, name="internal.txt", message_id=note_id)
    shown = await upload(client, agent, ticket, name="public.txt")
    assert hidden.status_code == shown.status_code == 201
    token = token_of(ticket)
    view = (await client.get(f"/api/v1/track/{token}")).json()
    assert [a["filename"] for a in view["attachments"]] == ["public.txt"]
    assert (await client.get(f"/track/{token}/attachments/{shown.json()['id']}")).status_code == 200
    assert (await client.get(f"/track/{token}/attachments/{hidden.json()['id']}")).status_code == 404


async def test_a_tracking_link_cannot_fetch_another_tickets_attachment(client, agent, open_ticket):  # type: ignore[no-untyped-def]
    first = await open_ticket(agent.headers, customer_email="anna@example.com")
    second = await open_ticket(agent.headers, customer_email="boris@example.com")
    other = await upload(client, agent, second, name="boris.txt")
    response = await client.get(f"/track/{token_of(first)}/attachments/{other.json()['id']}")
    assert response.status_code == 404


async def test_a_customer_cannot_download_an_internal_notes_attachment(
    client, agent, customer_session, open_ticket
):  # type: ignore[no-untyped-def]
    customer = await customer_session()
    ticket = await open_ticket(customer.headers)
    note_id = await internal_note(client, agent, ticket)
    hidden = await upload(client, agent, ticket, name="internal.txt", message_id=note_id)
    response = await client.get(f"/api/v1/attachments/{hidden.json()['id']}", headers=customer.headers)
    assert response.status_code == 404
    detail = (await client.get(f"/api/v1/tickets/{ticket['id']}", headers=customer.headers)).json()
    assert detail["attachments"] == []
    assert [m["kind"] for m in detail["messages"]] == ["customer_message"]


@pytest.mark.parametrize("token", ["x" * 43, "short", "A"])
async def test_an_unknown_or_short_tracking_token_is_404(client, agent, open_ticket, token):  # type: ignore[no-untyped-def]
    await open_ticket(agent.headers, customer_email="anna@example.com")
    response = await client.get(f"/api/v1/track/{token}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert (await client.get(f"/track/{token}")).status_code == 404


async def test_a_prefix_of_a_real_tracking_token_is_404(client, agent, open_ticket):  # type: ignore[no-untyped-def]
    ticket = await open_ticket(agent.headers, customer_email="anna@example.com")
    assert (await client.get(f"/api/v1/track/{token_of(ticket)[:10]}")).status_code == 404


async def test_the_tracking_page_renders_as_html(client, agent, open_ticket):  # type: ignore[no-untyped-def]
    ticket = await open_ticket(agent.headers, customer_email="anna@example.com", subject="Monitor <flickers>")
    await internal_note(client, agent, ticket, "internal only")
    response = await client.get(f"/track/{token_of(ticket)}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert ticket["reference"] in response.text
    assert "Monitor &lt;flickers&gt;" in response.text
    assert "internal only" not in response.text


async def test_an_upload_downloads_byte_for_byte_with_its_sha256(client, agent, open_ticket):  # type: ignore[no-untyped-def]
    ticket = await open_ticket(agent.headers, customer_email="anna@example.com")
    data = bytes(range(256)) * 40
    uploaded = await upload(
        client, agent, ticket, name="dump.bin", data=data, content_type="application/octet-stream"
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["sha256"] == hashlib.sha256(data).hexdigest()
    assert uploaded.json()["size"] == len(data)
    downloaded = await client.get(uploaded.json()["url"], headers=agent.headers)
    assert downloaded.status_code == 200
    assert downloaded.content == data


async def test_a_file_over_the_per_file_limit_is_413_naming_the_field(client, agent, open_ticket, settings):  # type: ignore[no-untyped-def]
    ticket = await open_ticket(agent.headers, customer_email="anna@example.com")
    response = await upload(client, agent, ticket, data=b"x" * (settings.max_attachment_bytes + 1))
    assert response.status_code == 413
    assert (response.json()["code"], response.json()["field"]) == ("too_large", "file")


async def test_files_over_the_per_ticket_total_are_413(client, agent, open_ticket, settings):  # type: ignore[no-untyped-def]
    ticket = await open_ticket(agent.headers, customer_email="anna@example.com")
    chunk = settings.max_attachment_bytes - 1
    statuses = [
        (await upload(client, agent, ticket, name=f"part{i}.bin", data=bytes([i]) * chunk)).status_code
        for i in range(settings.max_ticket_attachment_bytes // chunk + 1)
    ]
    assert statuses[-1] == 413
    assert set(statuses[:-1]) == {201}
    detail = (await client.get(f"/api/v1/tickets/{ticket['id']}", headers=agent.headers)).json()
    assert sum(a["size"] for a in detail["attachments"]) <= settings.max_ticket_attachment_bytes


async def test_an_empty_file_is_422(client, agent, open_ticket):  # type: ignore[no-untyped-def]
    ticket = await open_ticket(agent.headers, customer_email="anna@example.com")
    response = await upload(client, agent, ticket, data=b"")
    assert response.status_code == 422
    assert response.json()["field"] == "file"


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        (b"../../etc/passwd", "passwd"),
        (b"..\\..\\windows\\win.ini", "win.ini"),
        (b"report\x00.txt", "report_.txt"),
        (b"a\x07b\x1bc.txt", "a_b_c.txt"),
        (b"...", "attachment"),
        ("отчёт.pdf".encode(), "отчёт.pdf"),
    ],
)
async def test_an_unsafe_file_name_is_made_safe(client, agent, open_ticket, sent, stored):  # type: ignore[no-untyped-def]
    ticket = await open_ticket(agent.headers, customer_email="anna@example.com")
    # Built by hand: httpx would escape the control characters before they reach the server.
    body = (
        b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="' + sent + b'"\r\n'
        b"Content-Type: text/plain\r\n\r\nhello\r\n--XyZ--\r\n"
    )
    response = await client.post(
        f"/api/v1/tickets/{ticket['id']}/attachments",
        content=body,
        headers={**agent.headers, "Content-Type": "multipart/form-data; boundary=XyZ"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["filename"] == stored
    download = await client.get(response.json()["url"], headers=agent.headers)
    assert download.status_code == 200
    assert "\n" not in download.headers["content-disposition"]


async def test_an_uploaded_html_file_is_served_as_a_download_that_cannot_run(client, agent, open_ticket):  # type: ignore[no-untyped-def]
    ticket = await open_ticket(agent.headers, customer_email="anna@example.com")
    page = b"<html><script>alert(document.cookie)</script></html>"
    uploaded = await upload(client, agent, ticket, name="evil.html", data=page, content_type="text/html")
    response = await client.get(uploaded.json()["url"], headers=agent.headers)
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in response.headers["content-security-policy"]


async def test_disk_storage_keeps_files_by_sha256_and_serves_them(make_client, agent, settings):  # type: ignore[no-untyped-def]
    async with make_client(attachment_storage="disk") as (disk_client, _):
        opened = await disk_client.post(
            "/api/v1/tickets",
            json={"subject": "Logs", "description": "see file", "customer_email": "anna@example.com"},
            headers=agent.headers,
        )
        data = b"disk bytes " * 100
        uploaded = await upload(disk_client, agent, opened.json(), name="log.txt", data=data)
        assert uploaded.status_code == 201, uploaded.text
        downloaded = await disk_client.get(uploaded.json()["url"], headers=agent.headers)
    digest = hashlib.sha256(data).hexdigest()
    assert downloaded.content == data
    assert (Path(settings.attachment_dir) / digest[:2] / digest).read_bytes() == data
