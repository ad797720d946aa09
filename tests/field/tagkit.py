"""The tag rule's tests set up and read through the API: customers, assets, requests, tags, work orders and the
rule's lines in the ticket's audit trail. ``desk`` is the (client, runtime) of an app with the rule on."""

from __future__ import annotations

from typing import Any

import httpx

from helpdesk.runtime import Runtime

Desk = tuple[httpx.AsyncClient, Runtime]


async def make_customer(client: httpx.AsyncClient, admin: Any, email: str) -> int:
    response = await client.post(
        "/api/v1/customers", json={"email": email, "name": "Carla Customer"}, headers=admin.headers
    )
    assert response.status_code == 201, response.text
    customer_id: int = response.json()["id"]
    return customer_id


async def make_asset(
    client: httpx.AsyncClient, admin: Any, customer_id: int, **fields: Any
) -> dict[str, Any]:
    """A boiler under warranty at a Berlin site, the customer's (``fields`` change any of it)."""
    body = {
        "serial_number": f"SN-{customer_id}-{fields.get('product', 'Boiler')}",
        "product": "Boiler",
        "customer_id": customer_id,
        "site_address": "Hauptstr. 5, Berlin",
        "lat": 52.5,
        "lon": 13.4,
        "warranty_until": "2028-01-01",
        **fields,
    }
    response = await client.post("/api/v1/dispatch/assets", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def open_request(desk: Desk, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    """A ticket opened by whoever ``headers`` sign in (staff name the customer in ``fields``), its jobs run."""
    client, runtime = desk
    body = {"subject": "Boiler leaks", "description": "Water on the floor", **fields}
    response = await client.post("/api/v1/tickets", json=body, headers=headers)
    assert response.status_code == 201, response.text
    await runtime.queue.drain()  # type: ignore[attr-defined]
    result: dict[str, Any] = response.json()
    return result


async def set_tags(desk: Desk, agent: Any, ticket_id: int, tags: list[str]) -> None:
    """The agent replaces the ticket's tags; its jobs run."""
    client, runtime = desk
    current = await client.get(f"/api/v1/tickets/{ticket_id}", headers=agent.headers)
    response = await client.patch(
        f"/api/v1/tickets/{ticket_id}",
        json={"version": current.json()["version"], "tags": tags},
        headers=agent.headers,
    )
    assert response.status_code == 200, response.text
    await runtime.queue.drain()  # type: ignore[attr-defined]


async def work_orders(client: httpx.AsyncClient, agent: Any, ticket_id: int) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/dispatch/work-orders?ticket_id={ticket_id}", headers=agent.headers)
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()
    return result


async def rule_audit(client: httpx.AsyncClient, agent: Any, ticket_id: int) -> list[str]:
    """What the rule wrote in the ticket's audit trail, oldest first."""
    ticket = await client.get(f"/api/v1/tickets/{ticket_id}", headers=agent.headers)
    return [a["new_value"] for a in ticket.json()["audit"] if a["field"] == "work_order_rule"]
