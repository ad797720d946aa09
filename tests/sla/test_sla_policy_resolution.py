"""The policy of many new tickets at once (sla.resolution) is the policy resolve_policy gives each alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import pytest

from helpdesk.customers.models import Customer, Organisation
from sla.contract_rule import choose_contract
from sla.defaults import DEFAULT_POLICY
from sla.models import CalendarRow, ContractRow, PolicyRow
from sla.resolution import resolve_policies
from sla.service import resolve_policy

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


class Contract(NamedTuple):
    name: str
    customer_id: int | None
    organisation_id: int | None
    valid_from: datetime
    valid_to: datetime | None = None


CONTRACTS = [
    Contract("org old", None, 10, NOW - 300 * DAY),
    Contract("org new", None, 10, NOW - 30 * DAY),
    Contract("org future", None, 10, NOW + DAY),
    Contract("org expired", None, 20, NOW - 300 * DAY, NOW - DAY),
    Contract("customer", 1, None, NOW - 400 * DAY),
    Contract("customer ended now", 2, None, NOW - 400 * DAY, NOW),
]


@pytest.mark.parametrize(
    ("owner", "chosen"),
    [
        ((10, 1), "customer"),  # the customer's own contract beats the organisation's newer one
        ((10, 3), "org new"),  # the newest valid contract of the organisation
        ((20, 4), None),  # expired
        ((None, 2), None),  # valid_to is exclusive
        ((None, 5), None),
        ((30, None), None),
    ],
)
def test_the_contract_that_decides_a_new_tickets_policy(
    owner: tuple[int | None, int | None], chosen: str
) -> None:
    contract = choose_contract(CONTRACTS, owner, NOW)
    assert (contract.name if contract else None) == chosen


@pytest.mark.integration
async def test_a_batch_resolves_each_owner_to_the_policy_resolve_policy_gives_it_alone(runtime) -> None:  # type: ignore[no-untyped-def]
    async with runtime.sessions() as session, session.begin():
        calendar = CalendarRow(name="24/7", spec={"24/7": True}, created_at=NOW, updated_at=NOW)
        session.add(calendar)
        await session.flush()
        premium, basic = (
            PolicyRow(name=name, calendar_id=calendar.id, spec=DEFAULT_POLICY, actions={}, is_default=default,
                      version=version, created_at=NOW, updated_at=NOW)
            for name, default, version in (("Premium", False, 3), ("Basic", True, 1))
        )  # fmt: skip
        clinic, shop = Organisation(name="Clinic", created_at=NOW), Organisation(name="Shop", created_at=NOW)
        session.add_all([premium, basic, clinic, shop])
        await session.flush()
        olga, ivan, zoe = (
            Customer(email=email, organisation_id=organisation, created_at=NOW)
            for email, organisation in (("olga@c.example", clinic.id), ("ivan@c.example", clinic.id),
                                        ("zoe@z.example", None))
        )  # fmt: skip
        session.add_all([olga, ivan, zoe])
        await session.flush()
        session.add_all([
            ContractRow(name="Clinic", organisation_id=clinic.id, policy_id=premium.id, valid_from=NOW - DAY,
                        tier=1, coverage=[], created_at=NOW),
            ContractRow(name="Olga", customer_id=olga.id, policy_id=basic.id, valid_from=NOW - 9 * DAY, tier=2,
                        coverage=[], created_at=NOW),
        ])  # fmt: skip
        owners = [(clinic.id, olga.id), (clinic.id, ivan.id), (shop.id, None), (None, zoe.id)]

    async with runtime.sessions() as session:
        batch = await resolve_policies(session, owners, NOW)
        alone = {
            owner: await resolve_policy(session, organisation_id=owner[0], customer_id=owner[1], at=NOW)
            for owner in owners
        }

    assert batch == alone
    assert [(batch[o].policy_id, batch[o].tier) for o in owners] == [
        (basic.id, 2), (premium.id, 1), (basic.id, 0), (basic.id, 0)
    ]  # fmt: skip
