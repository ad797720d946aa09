"""Signing in: staff passwords and cookies with CSRF, API tokens, customers' magic links, rate limits."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

import pytest
import redis.asyncio
from sqlalchemy import func, select

from helpdesk.notifications.models import OutgoingMail

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery"


async def sign_in(client, email, password=PASSWORD):  # type: ignore[no-untyped-def]
    return await client.post("/api/v1/auth/login", json={"email": email, "password": password})


async def mails_to(runtime, address):  # type: ignore[no-untyped-def]
    async with runtime.sessions() as session:
        return (await session.scalars(select(OutgoingMail).where(OutgoingMail.to_address == address))).all()


async def test_password_login_sets_an_httponly_session_cookie_and_returns_a_csrf_token(client, make_staff):  # type: ignore[no-untyped-def]
    staff = await make_staff("agent", password=PASSWORD)
    response = await sign_in(client, staff.email)
    assert response.status_code == 200, response.text
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("hd_session=")
    assert "httponly" in cookie.lower()
    assert response.json()["kind"] == "staff"
    assert len(response.json()["csrf_token"]) >= 32


async def test_a_cookie_write_without_the_csrf_header_is_refused(client, make_staff):  # type: ignore[no-untyped-def]
    staff = await make_staff("agent", password=PASSWORD)
    assert (await sign_in(client, staff.email)).status_code == 200
    response = await client.post("/api/v1/tokens", json={"name": "laptop"})
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"


async def test_a_cookie_write_with_a_wrong_csrf_header_is_refused(client, make_staff):  # type: ignore[no-untyped-def]
    staff = await make_staff("agent", password=PASSWORD)
    assert (await sign_in(client, staff.email)).status_code == 200
    response = await client.post("/api/v1/tokens", json={"name": "laptop"}, headers={"X-CSRF-Token": "guess"})
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"


async def test_a_cookie_write_with_the_csrf_header_succeeds(client, make_staff):  # type: ignore[no-untyped-def]
    staff = await make_staff("agent", password=PASSWORD)
    csrf = (await sign_in(client, staff.email)).json()["csrf_token"]
    response = await client.post("/api/v1/tokens", json={"name": "laptop"}, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "laptop"


async def test_a_wrong_password_and_an_unknown_email_get_the_same_401(client, make_staff):  # type: ignore[no-untyped-def]
    staff = await make_staff("agent", password=PASSWORD)
    wrong_password = await sign_in(client, staff.email, "not the password")
    unknown_email = await sign_in(client, "nobody@staff.example")
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json() == unknown_email.json()
    assert "set-cookie" not in wrong_password.headers


async def test_logout_ends_the_session(client, make_staff):  # type: ignore[no-untyped-def]
    staff = await make_staff("agent", password=PASSWORD)
    cookie = (await sign_in(client, staff.email)).cookies["hd_session"]
    client.cookies.clear()
    session = {"Cookie": f"hd_session={cookie}"}
    assert (await client.get("/api/v1/auth/me", headers=session)).status_code == 200
    assert (await client.post("/api/v1/auth/logout", headers=session)).status_code == 204
    assert (await client.get("/api/v1/auth/me", headers=session)).status_code == 401


async def test_a_revoked_api_token_is_refused_with_401(client, agent):  # type: ignore[no-untyped-def]
    created = await client.post("/api/v1/tokens", json={"name": "script"}, headers=agent.headers)
    token = {"Authorization": f"Bearer {created.json()['token']}"}
    assert (await client.get("/api/v1/auth/me", headers=token)).status_code == 200
    revoked = await client.delete(f"/api/v1/tokens/{created.json()['id']}", headers=agent.headers)
    assert revoked.status_code == 204, revoked.text
    response = await client.get("/api/v1/auth/me", headers=token)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


async def test_a_magic_link_request_writes_the_link_to_the_outbox(client, runtime, customer_session):  # type: ignore[no-untyped-def]
    await customer_session("anna@example.com")
    response = await client.post("/api/v1/auth/magic-link", json={"email": "Anna@Example.com"})
    assert response.status_code == 202
    mails = await mails_to(runtime, "anna@example.com")
    assert len(mails) == 2  # one for the fixture's sign-in, one now
    assert "http://testserver.local/portal/magic/" in mails[-1].body_text


async def test_a_magic_link_request_for_an_unknown_address_is_accepted_but_sends_nothing(client, runtime):  # type: ignore[no-untyped-def]
    response = await client.post("/api/v1/auth/magic-link", json={"email": "stranger@example.com"})
    assert response.status_code == 202
    async with runtime.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OutgoingMail)) == 0


async def test_with_mail_enabled_the_magic_link_arrives_by_smtp(make_client, smtp_server, customer_session):  # type: ignore[no-untyped-def]
    await customer_session("boris@example.com")  # creates the customer
    async with make_client(mail_enabled=True, smtp_port=smtp_server.port) as (mailing, runtime):
        response = await mailing.post("/api/v1/auth/magic-link", json={"email": "boris@example.com"})
        assert response.status_code == 202
        await runtime.queue.drain()
        assert [m["To"] for m in smtp_server.messages] == ["boris@example.com"]
        body = smtp_server.messages[0].get_body(("plain",)).get_content()
        token = re.search(r"/portal/magic/(\S+)", body)
        assert token is not None
        redeemed = await mailing.get(f"/portal/magic/{token.group(1)}", follow_redirects=False)
        assert redeemed.status_code == 302
        assert "hd_session" in redeemed.cookies


async def test_a_magic_link_works_once(client, customer_session, mailed_magic_link):  # type: ignore[no-untyped-def]
    await customer_session("clara@example.com")
    await client.post("/api/v1/auth/magic-link", json={"email": "clara@example.com"})
    token = await mailed_magic_link("clara@example.com")
    first = await client.get(f"/portal/magic/{token}", follow_redirects=False)
    client.cookies.clear()
    second = await client.get(f"/portal/magic/{token}", follow_redirects=False)
    assert first.status_code == 302
    assert first.headers["location"] == "/portal/requests"
    assert second.status_code == 401
    assert "hd_session" not in second.cookies


async def test_an_expired_magic_link_is_refused(client, clock, customer_session, mailed_magic_link):  # type: ignore[no-untyped-def]
    await customer_session("dana@example.com")
    await client.post("/api/v1/auth/magic-link", json={"email": "dana@example.com"})
    token = await mailed_magic_link("dana@example.com")
    clock.advance(timedelta(minutes=31))
    response = await client.get(f"/portal/magic/{token}", follow_redirects=False)
    assert response.status_code == 401
    assert "hd_session" not in response.cookies


async def test_a_magic_link_just_before_it_expires_still_works(
    client, clock, customer_session, mailed_magic_link
):  # type: ignore[no-untyped-def]
    await customer_session("emil@example.com")
    await client.post("/api/v1/auth/magic-link", json={"email": "emil@example.com"})
    token = await mailed_magic_link("emil@example.com")
    clock.advance(timedelta(minutes=29))
    assert (await client.get(f"/portal/magic/{token}", follow_redirects=False)).status_code == 302


async def _hit_login_until_limited(client, limit):  # type: ignore[no-untyped-def]
    """Send limit + 1 failing logins from one fresh address; returns the statuses."""
    address = {"X-Forwarded-For": f"203.0.113.{secrets.randbelow(250) + 1}, 10.{secrets.randbelow(250)}.0.1"}
    statuses = []
    for _ in range(limit + 1):
        response = await client.post(
            "/api/v1/auth/login", json={"email": "x@staff.example", "password": "wrong"}, headers=address
        )
        statuses.append(response.status_code)
    return statuses, response


async def test_login_is_rate_limited_per_address_in_memory(make_client):  # type: ignore[no-untyped-def]
    async with make_client(login_rate_per_minute=3) as (limited, _):
        statuses, last = await _hit_login_until_limited(limited, 3)
    assert statuses == [401, 401, 401, 429]
    assert last.json()["code"] == "rate_limited"
    assert last.headers["retry-after"] == "60"


async def test_login_is_rate_limited_through_redis_shared_by_replicas(make_client, redis_url):  # type: ignore[no-untyped-def]
    async with make_client(login_rate_per_minute=3, redis_url=redis_url) as (first_replica, runtime):
        assert type(runtime.rate_limiter).__name__ == "RedisRateLimiter"
        statuses, _ = await _hit_login_until_limited(first_replica, 2)
        forwarded = _.request.headers["x-forwarded-for"]
    async with make_client(login_rate_per_minute=3, redis_url=redis_url) as (second_replica, _):
        # The same address on another replica: its fourth attempt is over the shared limit.
        response = await second_replica.post(
            "/api/v1/auth/login",
            json={"email": "x@staff.example", "password": "wrong"},
            headers={"X-Forwarded-For": forwarded},
        )
    assert statuses == [401, 401, 401]
    assert response.status_code == 429
    client = redis.asyncio.Redis.from_url(redis_url)
    try:
        hop = forwarded.split(",")[-1].strip()
        assert await client.keys(f"helpdesk:rate:login:{hop}:*")
    finally:
        await client.aclose()
