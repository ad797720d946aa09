"""API tokens answered in the last few seconds cost no query; a revocation or a change to the user still takes
effect at once in this process, and within ``CACHE_SECONDS`` in any other."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, update

from helpdesk.accounts import token_cache
from helpdesk.accounts.models import ApiToken, Role
from helpdesk.accounts.token_cache import CACHE_SECONDS, RUNTIME_KEY, PrincipalCache
from helpdesk.core.db import transaction
from helpdesk.core.principal import Principal


async def test_a_token_used_again_within_seconds_costs_no_query(client, agent, runtime):  # type: ignore[no-untyped-def]
    assert (await client.get("/api/v1/auth/me", headers=agent.headers)).status_code == 200
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    event.listen(runtime.engine.sync_engine, "before_cursor_execute", record)
    try:
        assert (await client.get("/api/v1/auth/me", headers=agent.headers)).status_code == 200
    finally:
        event.remove(runtime.engine.sync_engine, "before_cursor_execute", record)
    assert seen == []


async def test_a_token_revoked_through_the_api_is_refused_at_once_although_it_was_just_used(client, agent):  # type: ignore[no-untyped-def]
    created = await client.post("/api/v1/tokens", json={"name": "script"}, headers=agent.headers)
    token = {"Authorization": f"Bearer {created.json()['token']}"}
    assert (await client.get("/api/v1/auth/me", headers=token)).status_code == 200
    assert (
        await client.delete(f"/api/v1/tokens/{created.json()['id']}", headers=agent.headers)
    ).status_code == 204
    assert (await client.get("/api/v1/auth/me", headers=token)).status_code == 401


async def test_a_deactivated_users_token_is_refused_at_once_although_it_was_just_used(client, agent, admin):  # type: ignore[no-untyped-def]
    assert (await client.get("/api/v1/auth/me", headers=agent.headers)).status_code == 200
    changed = await client.patch(
        f"/api/v1/users/{agent.id}", json={"is_active": False}, headers=admin.headers
    )
    assert changed.status_code == 200, changed.text
    assert (await client.get("/api/v1/auth/me", headers=agent.headers)).status_code == 401


async def test_a_new_role_applies_to_the_next_call(client, agent, admin):  # type: ignore[no-untyped-def]
    assert (await client.get("/api/v1/auth/me", headers=agent.headers)).json()["role"] == "agent"
    await client.patch(f"/api/v1/users/{agent.id}", json={"role": "technician"}, headers=admin.headers)
    assert (await client.get("/api/v1/auth/me", headers=agent.headers)).json()["role"] == "technician"


async def test_a_token_revoked_by_another_process_is_refused_once_the_cache_time_is_over(
    client, agent, runtime
):  # type: ignore[no-untyped-def]
    now = [100.0]
    runtime.extras[RUNTIME_KEY] = PrincipalCache(monotonic=lambda: now[0])
    assert (await client.get("/api/v1/auth/me", headers=agent.headers)).status_code == 200
    # Another API process revokes it: a plain UPDATE, no ORM event in this process.
    async with transaction(runtime.sessions) as session:
        await session.execute(update(ApiToken).values(revoked_at=datetime(2027, 3, 1, tzinfo=UTC)))
    now[0] += CACHE_SECONDS - 0.5
    assert (await client.get("/api/v1/auth/me", headers=agent.headers)).status_code == 200
    now[0] += 1.0
    assert (await client.get("/api/v1/auth/me", headers=agent.headers)).status_code == 401


def test_an_entry_expires_after_the_cache_time() -> None:
    now = [100.0]
    cache = PrincipalCache(monotonic=lambda: now[0])
    principal = Principal(user_id=1, role=Role.AGENT, name="Alex")
    cache.put("hash", principal, cache.mark())
    now[0] += CACHE_SECONDS - 0.1
    assert cache.get("hash") == principal
    now[0] += 0.2
    assert cache.get("hash") is None


def test_an_answer_read_while_a_change_was_made_is_not_kept() -> None:
    cache = PrincipalCache()
    mark = cache.mark()
    token_cache._Changes.count += 1  # a user or token was changed meanwhile
    cache.put("hash", Principal(user_id=1, role=Role.AGENT, name="Alex"), mark)
    assert cache.get("hash") is None


def test_the_cache_keeps_at_most_its_size_dropping_the_oldest() -> None:
    cache = PrincipalCache(size=2)
    for n in range(3):
        cache.put(f"hash-{n}", Principal(user_id=n, role=Role.AGENT, name="A"), cache.mark())
    assert cache.get("hash-0") is None
    assert cache.get("hash-2") is not None
