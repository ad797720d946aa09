"""Who may call what: every API endpoint × every kind of caller, enumerated from the app's own routes."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import pytest
from litestar.routes import HTTPRoute
from sqlalchemy import select

from helpdesk.accounts.service import AccountService
from helpdesk.app import create_app
from helpdesk.channels.email.models import InboundSource
from helpdesk.channels.email.service import MailService
from helpdesk.customers.models import Customer
from helpdesk.customers.schemas import CustomerCreate, OrganisationCreate
from helpdesk.customers.service import CustomerService
from helpdesk.notifications.models import OutgoingMail

pytestmark = pytest.mark.integration

ROLES = (
    "anonymous",
    "customer",
    "other_customer",
    "technician",
    "agent",
    "manager",
    "admin",
    "revoked_token",
)


def row(expected: str) -> dict[str, str | None]:
    """Eight cells in ROLES order; '-' leaves a cell to the owning domain's own tests."""
    cells = expected.split()
    assert len(cells) == len(ROLES)
    return {role: None if cell == "-" else cell for role, cell in zip(ROLES, cells, strict=True)}


# anonymous  customer  other_customer  technician  agent  manager  admin  revoked_token
PUBLIC = row("2xx 2xx 2xx 2xx 2xx 2xx 2xx 2xx")
SIGNED_IN = row("401 2xx 2xx 2xx 2xx 2xx 2xx 401")
ANY_STAFF = row("401 403 403 2xx 2xx 2xx 2xx 401")
DESK = row("401 403 403 403 2xx 2xx 2xx 401")
ADMIN = row("401 403 403 403 403 403 2xx 401")
# The customer's own ticket: the other customer is told it does not exist.
OWN_TICKET = row("401 2xx 404 403 2xx 2xx 2xx 401")
TICKET_WORK = row("401 403 403 403 2xx 2xx 2xx 401")
# Other domains' endpoints: only the sign-in guard is asserted here; their roles are in their own tests.
STAFF_ONLY = row("401 403 403 - - - - 401")

MATRIX: dict[tuple[str, str], dict[str, str | None]] = {
    ("POST", "/api/v1/auth/login"): PUBLIC,
    ("POST", "/api/v1/auth/logout"): PUBLIC,
    ("POST", "/api/v1/auth/magic-link"): PUBLIC,
    ("GET", "/api/v1/auth/me"): SIGNED_IN,
    ("POST", "/api/v1/tokens"): ANY_STAFF,
    # Staff may revoke their own tokens; the admin's token is "not found" for anyone but an admin.
    ("DELETE", "/api/v1/tokens/{token_id:int}"): row("401 403 403 404 404 404 2xx 401"),
    ("GET", "/api/v1/users"): DESK,
    ("POST", "/api/v1/users"): ADMIN,
    ("GET", "/api/v1/users/{user_id:int}"): DESK,
    ("PATCH", "/api/v1/users/{user_id:int}"): ADMIN,
    ("GET", "/api/v1/groups"): DESK,
    ("POST", "/api/v1/groups"): ADMIN,
    ("PATCH", "/api/v1/groups/{group_id:int}"): ADMIN,
    ("GET", "/api/v1/organisations"): DESK,
    ("POST", "/api/v1/organisations"): ADMIN,
    ("GET", "/api/v1/organisations/{organisation_id:int}"): DESK,
    ("PATCH", "/api/v1/organisations/{organisation_id:int}"): ADMIN,
    ("GET", "/api/v1/customers"): DESK,
    ("POST", "/api/v1/customers"): DESK,
    ("GET", "/api/v1/customers/{customer_id:int}"): DESK,
    ("PATCH", "/api/v1/customers/{customer_id:int}"): ADMIN,
    # Anyone may open a ticket (the portal form); a technician does not work the desk.
    ("POST", "/api/v1/tickets"): row("2xx 2xx 2xx 403 2xx 2xx 2xx 401"),
    ("GET", "/api/v1/tickets"): row("401 2xx 2xx 403 2xx 2xx 2xx 401"),
    ("GET", "/api/v1/tickets/{ticket_id:int}"): OWN_TICKET,
    ("PATCH", "/api/v1/tickets/{ticket_id:int}"): TICKET_WORK,
    ("POST", "/api/v1/tickets/{ticket_id:int}/messages"): OWN_TICKET,
    ("POST", "/api/v1/tickets/{ticket_id:int}/attachments"): OWN_TICKET,
    ("GET", "/api/v1/tickets/{ticket_id:int}/sla"): row("401 - 404 - 2xx 2xx 2xx 401"),
    ("GET", "/api/v1/attachments/{attachment_id:int}"): OWN_TICKET,
    # The tracking link is its own permission.
    ("GET", "/api/v1/track/{token:str}"): PUBLIC,
    # A technician's own jobs: for anyone else there is no technician to look up.
    ("GET", "/api/v1/dispatch/my-jobs"): row("401 - - - - - - 401"),
    # The knowledge base is read by everyone (published public articles for customers and the anonymous).
    ("GET", "/api/v1/kb/articles"): row("2xx 2xx 2xx 2xx 2xx 2xx 2xx 401"),
    ("GET", "/api/v1/kb/search"): row("2xx 2xx 2xx 2xx 2xx 2xx 2xx 401"),
    ("GET", "/api/v1/kb/suggest"): row("2xx 2xx 2xx 2xx 2xx 2xx 2xx 401"),
    # Inbound mail that became no ticket is the desk's to review; a manager acts on it as an agent does.
    ("GET", "/api/v1/mail/inbound/flagged"): DESK,
    ("GET", "/api/v1/mail/inbound/{inbound_id:int}/raw"): DESK,
    ("POST", "/api/v1/mail/inbound/{inbound_id:int}/process-again"): DESK,
    ("POST", "/api/v1/mail/inbound/{inbound_id:int}/dismiss"): DESK,
}
# Owned by the dispatch, SLA, reports, e-mail channel and knowledge-base work: exempt from the row requirement here.
OTHER_DOMAINS = ("/api/v1/dispatch/", "/api/v1/sla/", "/api/v1/reports/", "/api/v1/mail/", "/api/v1/kb/")


def api_routes() -> set[tuple[str, str]]:
    routes = set()
    for route in create_app().routes:
        if isinstance(route, HTTPRoute) and route.path.startswith("/api/"):
            routes |= {(method, route.path) for method in route.route_handler_map if method != "OPTIONS"}
    return routes


def expectations() -> dict[tuple[str, str], dict[str, str | None]]:
    result = dict(MATRIX)
    for method, path in api_routes():
        if path.startswith(OTHER_DOMAINS) and method == "GET" and "{" not in path:
            result.setdefault((method, path), STAFF_ONLY)
    return result


def test_every_api_endpoint_has_a_row_in_the_matrix() -> None:
    covered = set(expectations())
    uncovered = {
        (method, path) for method, path in api_routes() - covered if not path.startswith(OTHER_DOMAINS)
    }
    assert uncovered == set(), "add these endpoints to MATRIX"
    assert covered - api_routes() == set(), "MATRIX names endpoints that no longer exist"


@dataclass
class World:
    """Everyone and everything the matrix talks about, created once for the module."""

    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    ids: dict[str, Any] = field(default_factory=dict)
    runtime: Any = None


async def _flagged_mail(runtime: Any) -> int:
    """A stored inbound mail flagged for review (each process-again or dismiss cell needs a fresh one)."""
    raw = (
        f"From: a@matrix.example\r\nTo: support@helpdesk.localhost\r\nSubject: Held\r\n"
        f"Message-ID: <{_unique()}@matrix.example>\r\n\r\nHello\r\n"
    ).encode()
    service = MailService(runtime)
    stored = await service.store(raw, InboundSource.HTTP, enqueue=False)
    await service.flag(stored.id, "held for the matrix")
    return stored.id


async def _customer_headers(client, runtime, address, organisation_id=None):  # type: ignore[no-untyped-def]
    await CustomerService(runtime).create_customer(
        CustomerCreate(email=address, name=address.split("@")[0], organisation_id=organisation_id)
    )
    await client.post("/api/v1/auth/magic-link", json={"email": address})
    async with runtime.sessions() as session:
        body = await session.scalar(
            select(OutgoingMail.body_text)
            .where(OutgoingMail.to_address == address)
            .order_by(OutgoingMail.id.desc())
        )
    redeemed = await client.get("/portal/magic/" + body.rsplit("/portal/magic/", 1)[1].split()[0])
    cookie = redeemed.cookies["hd_session"]
    client.cookies.clear()
    me = await client.get("/api/v1/auth/me", headers={"Cookie": f"hd_session={cookie}"})
    return {"Cookie": f"hd_session={cookie}", "X-CSRF-Token": me.json()["csrf_token"]}


@pytest.fixture(scope="module")
async def world(module_client) -> World:  # type: ignore[no-untyped-def]
    client, runtime = module_client
    accounts = AccountService(runtime)
    world = World(runtime=runtime)
    for role in ("technician", "agent", "manager", "admin"):
        user = await accounts.create_user(email=f"{role}@matrix.example", name=role, role=role, password=None)
        _, token = await accounts.create_api_token(user.id, "matrix")
        world.headers[role] = {"Authorization": f"Bearer {token}"}
        world.ids[role] = user.id
    revoked_id, revoked = await accounts.create_api_token(world.ids["admin"], "old")
    world.headers["revoked_token"] = {"Authorization": f"Bearer {revoked}"}
    await client.delete(f"/api/v1/tokens/{revoked_id}", headers=world.headers["admin"])
    world.ids["spare_token"], _ = await accounts.create_api_token(world.ids["admin"], "spare")
    world.headers["anonymous"] = {}
    world.headers["customer"] = await _customer_headers(client, runtime, "own@matrix.example")
    world.headers["other_customer"] = await _customer_headers(client, runtime, "other@matrix.example")
    async with runtime.sessions() as session:
        world.ids["customer"] = await session.scalar(
            select(Customer.id).where(Customer.email == "own@matrix.example")
        )
    ticket = await client.post(
        "/api/v1/tickets", json={"subject": "Mine", "description": "x"}, headers=world.headers["customer"]
    )
    world.ids["ticket"] = ticket.json()["id"]
    world.ids["tracking"] = ticket.json()["tracking_url"].rsplit("/", 1)[-1]
    attachment = await client.post(
        f"/api/v1/tickets/{world.ids['ticket']}/attachments",
        files={"file": ("a.txt", b"abc", "text/plain")},
        headers=world.headers["customer"],
    )
    world.ids["attachment"] = attachment.json()["id"]
    group = await client.post("/api/v1/groups", json={"name": "Matrix"}, headers=world.headers["admin"])
    world.ids["group"] = group.json()["id"]
    organisation = await CustomerService(runtime).create_organisation(OrganisationCreate(name="Matrix Org"))
    world.ids["organisation"] = organisation.id
    await client.post(
        "/api/v1/users",
        json={"email": "login@matrix.example", "name": "L", "role": "agent", "password": "p" * 12},
        headers=world.headers["admin"],
    )
    world.ids["inbound"] = await _flagged_mail(runtime)
    return world


def _unique() -> str:
    return secrets.token_hex(4)


async def _request(client, world, method, path, role):  # type: ignore[no-untyped-def]
    """The request for one cell: a valid body, so that only who is asking decides the answer."""
    ids = world.ids
    url = (
        path.replace("{token_id:int}", str(ids["spare_token"]))
        .replace("{user_id:int}", str(ids["agent"]))
        .replace("{group_id:int}", str(ids["group"]))
        .replace("{organisation_id:int}", str(ids["organisation"]))
        .replace("{customer_id:int}", str(ids["customer"]))
        .replace("{ticket_id:int}", str(ids["ticket"]))
        .replace("{attachment_id:int}", str(ids["attachment"]))
        .replace("{token:str}", ids["tracking"])
    )
    if "{inbound_id:int}" in url:
        inbound_id = ids["inbound"] if method == "GET" else await _flagged_mail(world.runtime)
        url = url.replace("{inbound_id:int}", str(inbound_id))
    headers = dict(world.headers[role])
    kwargs: dict[str, Any] = {}
    body: dict[str, Any] | None = {
        ("POST", "/api/v1/auth/login"): {"email": "login@matrix.example", "password": "p" * 12},
        ("POST", "/api/v1/auth/magic-link"): {"email": "own@matrix.example"},
        ("POST", "/api/v1/tokens"): {"name": "matrix"},
        ("POST", "/api/v1/users"): {"email": f"u{_unique()}@matrix.example", "name": "U", "role": "agent"},
        ("PATCH", "/api/v1/users/{user_id:int}"): {"name": "agent"},
        ("POST", "/api/v1/groups"): {"name": f"G{_unique()}"},
        ("PATCH", "/api/v1/groups/{group_id:int}"): {"email": "matrix@example.com"},
        ("POST", "/api/v1/organisations"): {"name": f"O{_unique()}"},
        ("PATCH", "/api/v1/organisations/{organisation_id:int}"): {"shares_tickets": False},
        ("POST", "/api/v1/customers"): {"email": f"c{_unique()}@matrix.example"},
        ("PATCH", "/api/v1/customers/{customer_id:int}"): {"phone": "+1 555"},
        ("POST", "/api/v1/tickets/{ticket_id:int}/messages"): {"body": "hello"},
    }.get((method, path))
    if (method, path) == ("POST", "/api/v1/tickets"):
        body = {"subject": "New", "description": "x"}
        if not role.endswith("customer"):
            body["customer_email"] = "own@matrix.example"
    if (method, path) == ("PATCH", "/api/v1/tickets/{ticket_id:int}"):
        current = await client.get(url, headers=world.headers["admin"])
        body = {"version": current.json()["version"], "tags": [_unique()]}
    if (method, path) == ("POST", "/api/v1/tickets/{ticket_id:int}/attachments"):
        kwargs["files"] = {"file": ("b.txt", b"more", "text/plain")}
    if (method, path) == ("POST", "/api/v1/auth/logout") and role.endswith("customer"):
        headers = {}  # logging the customers out would sign them out of every later cell
    if body is not None:
        kwargs["json"] = body
    response = await client.request(method, url, headers=headers, **kwargs)
    client.cookies.clear()
    return response


def _status_class(status: int) -> str:
    return "2xx" if 200 <= status < 300 else str(status)


@pytest.mark.parametrize(("method", "path"), sorted(expectations()), ids=lambda v: v)
async def test_each_kind_of_caller_gets_the_expected_status_from_the_endpoint(
    module_client, world, method, path
):  # type: ignore[no-untyped-def]
    client, _ = module_client
    expected = expectations()[(method, path)]
    actual = {}
    for role in ROLES:
        if expected[role] is None:
            continue
        response = await _request(client, world, method, path, role)
        actual[role] = _status_class(response.status_code)
    assert actual == {role: cell for role, cell in expected.items() if cell is not None}


async def _shared_world(client, runtime, shares):  # type: ignore[no-untyped-def]
    organisation = await CustomerService(runtime).create_organisation(
        OrganisationCreate(name=f"Org {_unique()}", shares_tickets=shares)
    )
    first = await _customer_headers(client, runtime, f"a{_unique()}@org.example", organisation.id)
    second = await _customer_headers(client, runtime, f"b{_unique()}@org.example", organisation.id)
    ticket = await client.post("/api/v1/tickets", json={"subject": "Ours", "description": "x"}, headers=first)
    return second, ticket.json()["id"]


async def test_customers_of_an_organisation_that_shares_tickets_see_each_others_tickets(module_client):  # type: ignore[no-untyped-def]
    client, runtime = module_client
    colleague, ticket_id = await _shared_world(client, runtime, shares=True)
    assert (await client.get(f"/api/v1/tickets/{ticket_id}", headers=colleague)).status_code == 200
    listed = (await client.get("/api/v1/tickets", headers=colleague)).json()
    assert [t["id"] for t in listed["items"]] == [ticket_id]


async def test_customers_of_an_organisation_that_does_not_share_tickets_do_not_see_each_others(module_client):  # type: ignore[no-untyped-def]
    client, runtime = module_client
    colleague, ticket_id = await _shared_world(client, runtime, shares=False)
    assert (await client.get(f"/api/v1/tickets/{ticket_id}", headers=colleague)).status_code == 404
    assert (await client.get("/api/v1/tickets", headers=colleague)).json()["items"] == []
