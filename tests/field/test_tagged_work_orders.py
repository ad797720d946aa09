"""The tag rule through the API: a ticket tagged ``onsite`` (HELPDESK_FIELD_ORDER_TAGS) gets one unscheduled work
order at the customer's only asset, priced as a manual one, audited; without a known site the ticket says why."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tagkit import Desk, make_asset, make_customer, open_request, rule_audit, set_tags, work_orders

from helpdesk.field.auto_orders import create_tagged_work_order_job

pytestmark = pytest.mark.integration


async def open_ticket(desk: Desk, agent: Any, customer_id: int, **fields: Any) -> dict[str, Any]:
    """The agent opens a request for the customer (a phone call)."""
    return await open_request(desk, agent.headers, customer_id=customer_id, **fields)


async def test_a_ticket_opened_with_the_tag_gets_an_unscheduled_work_order_at_the_customers_asset(  # type: ignore[no-untyped-def]
    desk, admin, agent
):
    client, _ = desk
    customer_id = await make_customer(client, admin, "carla@example.com")
    asset = await make_asset(client, admin, customer_id)

    ticket = await open_ticket(desk, agent, customer_id, tags=["Onsite"])

    [order] = await work_orders(client, agent, ticket["id"])
    assert order["status"] == "unscheduled"
    assert (order["asset_id"], order["address"], order["lat"], order["lon"]) == (
        asset["id"],
        "Hauptstr. 5, Berlin",
        52.5,
        13.4,
    )
    assert order["duration_minutes"] == 90
    assert order["billing"] == "warranty"
    [audited] = await rule_audit(client, agent, ticket["id"])
    assert audited.startswith(f"{order['reference']} created (warranty): tagged 'onsite'")
    detail = (await client.get(f"/api/v1/dispatch/work-orders/{order['id']}", headers=agent.headers)).json()
    assert [(e["field"], e["actor"]) for e in detail["events"]] == [
        ("created", "system"),
        ("billing", "system"),
    ]
    assert "made by the tag rule" in detail["events"][0]["note"]


async def test_setting_the_tag_later_creates_one_work_order_however_often_it_is_set(  # type: ignore[no-untyped-def]
    desk, admin, agent
):
    client, _ = desk
    customer_id = await make_customer(client, admin, "dora@example.com")
    await make_asset(client, admin, customer_id)
    ticket = await open_ticket(desk, agent, customer_id)
    assert await work_orders(client, agent, ticket["id"]) == []

    await set_tags(desk, agent, ticket["id"], ["vor-ort"])
    await set_tags(desk, agent, ticket["id"], ["vor-ort", "urgent"])
    await set_tags(desk, agent, ticket["id"], [])
    await set_tags(desk, agent, ticket["id"], ["onsite"])

    assert len(await work_orders(client, agent, ticket["id"])) == 1
    assert len(await rule_audit(client, agent, ticket["id"])) == 1


async def test_the_rule_prices_the_work_order_as_a_manual_one_would_be(desk, admin, agent) -> None:  # type: ignore[no-untyped-def]
    client, _ = desk
    customer_id = await make_customer(client, admin, "emil@example.com")
    asset = await make_asset(
        client, admin, customer_id, warranty_until="2026-12-31", installed_on="2024-01-01"
    )
    manual_ticket = await open_ticket(desk, agent, customer_id)
    manual = await client.post(
        "/api/v1/dispatch/work-orders",
        json={"ticket_id": manual_ticket["id"], "asset_id": asset["id"], "duration_minutes": 30},
        headers=agent.headers,
    )
    assert manual.status_code == 201, manual.text

    tagged = await open_ticket(desk, agent, customer_id, tags=["onsite"])

    [order] = await work_orders(client, agent, tagged["id"])
    assert order["billing"] == manual.json()["billing"] == "billable"
    assert order["billing_reason"] == manual.json()["billing_reason"]


async def test_without_a_known_site_no_work_order_is_made_and_the_ticket_says_why_once(  # type: ignore[no-untyped-def]
    desk, admin, agent
):
    client, _ = desk
    customer_id = await make_customer(client, admin, "fritz@example.com")
    ticket = await open_ticket(desk, agent, customer_id, tags=["onsite"])

    await set_tags(desk, agent, ticket["id"], ["onsite", "urgent"])

    assert await work_orders(client, agent, ticket["id"]) == []
    [audited] = await rule_audit(client, agent, ticket["id"])
    assert audited == (
        "no work order: tagged 'onsite', but neither the customer nor their organisation has a registered asset, "
        "so the site is unknown"
    )
    detail = (await client.get(f"/api/v1/tickets/{ticket['id']}", headers=agent.headers)).json()
    notes = [m["body_text"] for m in detail["messages"] if m["kind"] == "internal_note"]
    assert notes == [f"Field service: {audited}. Create the work order by hand."]


async def test_a_customer_with_several_assets_gets_no_work_order_and_the_assets_are_named(  # type: ignore[no-untyped-def]
    desk, admin, agent
):
    client, _ = desk
    customer_id = await make_customer(client, admin, "gerd@example.com")
    await make_asset(client, admin, customer_id, product="Boiler")
    await make_asset(client, admin, customer_id, product="Heat pump")

    ticket = await open_ticket(desk, agent, customer_id, tags=["onsite"])

    assert await work_orders(client, agent, ticket["id"]) == []
    [audited] = await rule_audit(client, agent, ticket["id"])
    assert "the customer has 2 assets (Boiler SN-" in audited


async def test_without_configured_tags_the_rule_is_off(client, runtime, admin, agent) -> None:  # type: ignore[no-untyped-def]
    customer_id = await make_customer(client, admin, "hans@example.com")
    await make_asset(client, admin, customer_id)

    ticket = await open_ticket((client, runtime), agent, customer_id, tags=["onsite"])

    assert await work_orders(client, agent, ticket["id"]) == []
    assert await rule_audit(client, agent, ticket["id"]) == []


async def test_two_runs_of_the_job_at_once_make_one_work_order(desk, client, runtime, admin, agent) -> None:  # type: ignore[no-untyped-def]
    rule_client, rule_runtime = desk
    customer_id = await make_customer(client, admin, "ines@example.com")
    await make_asset(client, admin, customer_id)
    # Tagged through the app without the rule, so no job has run for it yet.
    ticket = await open_ticket((client, runtime), agent, customer_id, tags=["onsite"])

    outcomes = await asyncio.gather(
        create_tagged_work_order_job({"runtime": rule_runtime}, ticket["id"]),
        create_tagged_work_order_job({"runtime": rule_runtime}, ticket["id"]),
    )

    assert sorted(outcomes) == ["create", "has_order"]
    assert len(await work_orders(rule_client, agent, ticket["id"])) == 1
