"""The tag rule (HELPDESK_FIELD_ORDER_TAGS) makes field work only for tags staff set: a customer who sends
``onsite`` with a new request gets no work order (the audit trail says why), an agent who sets it does."""

from __future__ import annotations

from typing import Any

import pytest
from tagkit import Desk, make_asset, open_request, rule_audit, set_tags, work_orders

from helpdesk.field.auto_orders import NOT_STAFF_TAG, create_tagged_work_order_job

pytestmark = pytest.mark.integration


@pytest.fixture
async def customer(customer_session: Any, desk: Desk, admin: Any) -> Any:
    """A customer signed in on the portal (as ``olga``), with one registered asset, so the rule knows the site."""
    signed_in = await customer_session("olga@example.com")
    await make_asset(desk[0], admin, signed_in.customer_id)
    return signed_in


async def test_a_tag_a_customer_sends_with_a_new_request_makes_no_work_order(desk, customer, agent) -> None:  # type: ignore[no-untyped-def]
    ticket = await open_request(desk, customer.headers, tags=["onsite"])

    assert ticket["tags"] == ["onsite"]
    assert await work_orders(desk[0], agent, ticket["id"]) == []
    assert await rule_audit(desk[0], agent, ticket["id"]) == [
        "no work order: 'onsite' was set by olga (customer), not by staff"
    ]


async def test_the_job_run_again_for_a_customers_tag_makes_nothing_and_says_so_once(
    desk, customer, agent
) -> None:  # type: ignore[no-untyped-def]
    ticket = await open_request(desk, customer.headers, tags=["onsite"])

    outcome = await create_tagged_work_order_job({"runtime": desk[1]}, ticket["id"])

    assert outcome == NOT_STAFF_TAG
    assert await work_orders(desk[0], agent, ticket["id"]) == []
    assert len(await rule_audit(desk[0], agent, ticket["id"])) == 1


async def test_a_tag_an_agent_sets_on_a_customers_request_makes_a_work_order(desk, customer, agent) -> None:  # type: ignore[no-untyped-def]
    ticket = await open_request(desk, customer.headers)

    await set_tags(desk, agent, ticket["id"], ["onsite"])

    [order] = await work_orders(desk[0], agent, ticket["id"])
    assert order["status"] == "unscheduled"


async def test_a_tag_an_agent_sets_when_opening_a_request_makes_a_work_order(desk, customer, agent) -> None:  # type: ignore[no-untyped-def]
    ticket = await open_request(desk, agent.headers, customer_id=customer.customer_id, tags=["onsite"])

    assert len(await work_orders(desk[0], agent, ticket["id"])) == 1


async def test_an_agent_editing_other_tags_does_not_adopt_the_customers_tag(desk, customer, agent) -> None:  # type: ignore[no-untyped-def]
    ticket = await open_request(desk, customer.headers, tags=["onsite"])

    await set_tags(desk, agent, ticket["id"], ["onsite", "urgent"])

    assert await work_orders(desk[0], agent, ticket["id"]) == []


async def test_an_agent_who_sets_the_customers_tag_again_makes_the_work_order(desk, customer, agent) -> None:  # type: ignore[no-untyped-def]
    ticket = await open_request(desk, customer.headers, tags=["onsite"])

    await set_tags(desk, agent, ticket["id"], [])
    await set_tags(desk, agent, ticket["id"], ["onsite"])

    assert len(await work_orders(desk[0], agent, ticket["id"])) == 1
