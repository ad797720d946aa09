"""Bad input gets a 4xx JSON error naming the field, never a 500, and never leaves a half-written ticket."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

VALID = {
    "subject": "Printer jams",
    "description": "Paper jams on page 2",
    "customer_email": "anna@example.com",
}


async def ticket_count(client, staff):  # type: ignore[no-untyped-def]
    response = await client.get("/api/v1/tickets", headers=staff.headers)
    assert response.status_code == 200, response.text
    return response.json()["total"]


def assert_error(response, status, field):  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) <= {"code", "detail", "field"}
    assert body["code"]
    assert body["detail"]
    assert body.get("field") == field, body


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"subject": 123}, 400, "subject"),
        ({"subject": ""}, 400, "subject"),
        ({"subject": "x" * 301}, 400, "subject"),
        ({"description": "x" * 100_001}, 400, "description"),
        ({"customer_email": "not-an-address"}, 400, "customer_email"),
        ({"customer_email": "a@b.c" + "x" * 320}, 400, "customer_email"),
        ({"customer_name": "n" * 201}, 400, "customer_name"),
        ({"priority": "P9"}, 400, "priority"),
        ({"impact": "huge", "urgency": "high"}, 400, "impact"),
        ({"tags": ["ok", "not ok!"]}, 400, "tags[1]"),
        ({"tags": ["t"] * 21}, 400, "tags"),
        ({"queue_id": "one"}, 400, "queue_id"),
        ({"queue_id": 0}, 400, "queue_id"),
        ({"queue_id": 999_999}, 422, "queue_id"),
        ({"customer_id": 999_999, "customer_email": None}, 422, "customer_id"),
        ({"colour": "red"}, 400, "colour"),
        ({"customer_email": None}, 422, "customer_email"),
    ],
)
async def test_an_invalid_new_ticket_is_refused_naming_the_field_and_nothing_is_written(
    client, agent, changes, status, field
):  # type: ignore[no-untyped-def]
    before = await ticket_count(client, agent)
    body = {k: v for k, v in {**VALID, **changes}.items() if v is not None}
    response = await client.post("/api/v1/tickets", json=body, headers=agent.headers)
    assert_error(response, status, field)
    assert await ticket_count(client, agent) == before


async def test_an_unknown_customer_id_creates_no_customer_either(client, agent):  # type: ignore[no-untyped-def]
    body = {**VALID, "customer_email": "new.person@example.com", "queue_id": 999_999}
    response = await client.post("/api/v1/tickets", json=body, headers=agent.headers)
    assert response.status_code == 422
    customers = await client.get("/api/v1/customers", params={"q": "new.person"}, headers=agent.headers)
    assert customers.json() == []


@pytest.mark.parametrize(
    "raw",
    [b"{", b'{"subject": "x",}', b"[1, 2]", b"null", b'"just a string"', b"\xff\xfe", b""],
)
async def test_a_body_that_is_not_a_json_object_is_400_json_not_500(client, agent, raw):  # type: ignore[no-untyped-def]
    before = await ticket_count(client, agent)
    response = await client.post(
        "/api/v1/tickets", content=raw, headers={**agent.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"]
    assert await ticket_count(client, agent) == before


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"version": "one"}, 400, "version"),
        ({"status": "done"}, 400, "status"),
        ({"assignee_id": 999_999}, 422, "assignee_id"),
        ({"queue_id": 999_999}, 422, "queue_id"),
        ({"subject": "s" * 301}, 400, "subject"),
        ({"reference": "HD-1"}, 400, "reference"),
    ],
)
async def test_an_invalid_update_is_refused_naming_the_field_and_changes_nothing(
    client, agent, open_ticket, changes, status, field
):  # type: ignore[no-untyped-def]
    ticket = await open_ticket(agent.headers, customer_email="anna@example.com")
    body = {"version": ticket["version"], "priority": "P1", **changes}
    response = await client.patch(f"/api/v1/tickets/{ticket['id']}", json=body, headers=agent.headers)
    assert_error(response, status, field)
    after = (await client.get(f"/api/v1/tickets/{ticket['id']}", headers=agent.headers)).json()
    assert (after["priority"], after["version"], len(after["audit"])) == ("P3", ticket["version"], 1)


async def test_a_technician_cannot_be_assigned_a_ticket(client, agent, make_staff, open_ticket):  # type: ignore[no-untyped-def]
    technician = await make_staff("technician")
    ticket = await open_ticket(agent.headers, customer_email="anna@example.com")
    response = await client.patch(
        f"/api/v1/tickets/{ticket['id']}",
        json={"version": ticket["version"], "assignee_id": technician.id},
        headers=agent.headers,
    )
    assert_error(response, 422, "assignee_id")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "ten"}, "limit"),
        ({"limit": 0}, "limit"),
        ({"status": "sleeping"}, "status"),
        ({"queue_id": "x"}, "queue_id"),
        ({"q": "q" * 201}, "q"),
    ],
)
async def test_an_invalid_query_parameter_is_400_naming_it(client, agent, params, field):  # type: ignore[no-untyped-def]
    response = await client.get("/api/v1/tickets", params=params, headers=agent.headers)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/tickets/999999",
        "/api/v1/tickets/99999999999999999999999",
        "/api/v1/customers/999999",
        "/api/v1/users/999999",
        "/api/v1/organisations/99999999999999999999999",
        "/api/v1/attachments/999999",
    ],
)
async def test_an_unknown_or_out_of_range_id_is_4xx_not_500(client, admin, path):  # type: ignore[no-untyped-def]
    response = await client.get(path, headers=admin.headers)
    assert response.status_code in (400, 404), response.text
    assert response.json()["code"] in ("not_found", "invalid_input")


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/customers", {"email": "bad", "name": "X"}, "email"),
        ("/api/v1/customers", {"email": "x@example.com", "organisation_id": 999_999}, "organisation_id"),
        ("/api/v1/users", {"email": "x@example.com", "name": "X", "role": "king"}, "role"),
        (
            "/api/v1/users",
            {"email": "x@example.com", "name": "X", "role": "agent", "password": "short"},
            "password",
        ),
        ("/api/v1/groups", {"name": "Ops", "member_ids": [999_999]}, "member_ids"),
        ("/api/v1/organisations", {"name": "Acme", "domain": "not a domain"}, "domain"),
    ],
)
async def test_invalid_administration_input_names_the_field(client, admin, path, body, field):  # type: ignore[no-untyped-def]
    response = await client.post(path, json=body, headers=admin.headers)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["field"] == field


async def test_a_string_with_a_nul_character_is_refused_not_a_500(client, agent):  # type: ignore[no-untyped-def]
    response = await client.post(
        "/api/v1/tickets", json={**VALID, "subject": "a\x00b"}, headers=agent.headers
    )
    assert response.status_code == 400, response.text
    assert response.json()["field"] == "subject"
