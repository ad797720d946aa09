"""The intake path's SQL choice of contract and policy (sla.choice) gives the answers of the pure rule
(sla.contract_rule), and so does the batch resolver, on a table of cases. The clock is 2027-03-01 09:00 UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import pytest

from helpdesk.customers.models import Customer, Organisation
from sla.choice import PolicyCache, choose_policy
from sla.contract_rule import choose_contract, chosen_policy_id
from sla.defaults import DEFAULT_POLICY
from sla.models import CalendarRow, ContractRow, PolicyRow
from sla.resolution import resolve_policies

pytestmark = pytest.mark.integration

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


class Term(NamedTuple):
    """A contract of the customer ("customer") or of the organisation ("organisation"), with its policy and
    validity in days from now (``to`` exclusive, None for open-ended)."""

    name: str
    of: str
    policy: str
    since: int
    to: int | None = None


CASES = {
    "the customer's contract": ([Term("olga", "customer", "Gold", -10)], True, "olga", "Gold"),
    "the organisation's contract": (
        [Term("clinic", "organisation", "Silver", -10)],
        True,
        "clinic",
        "Silver",
    ),
    "the customer's beats the organisation's newer one": (
        [Term("olga", "customer", "Gold", -300), Term("clinic", "organisation", "Silver", -1)],
        True,
        "olga",
        "Gold",
    ),
    "an expired contract leaves the default": (
        [Term("old", "organisation", "Silver", -300, -1)],
        True,
        None,
        "Default",
    ),
    "a contract ending now has ended": ([Term("ends", "customer", "Gold", -300, 0)], True, None, "Default"),
    "a future contract leaves the default": ([Term("next", "customer", "Gold", 1)], True, None, "Default"),
    "of two overlapping the newest wins": (
        [Term("older", "organisation", "Silver", -300), Term("newer", "organisation", "Gold", -30)],
        True,
        "newer",
        "Gold",
    ),
    "no contract gives the default policy": ([], True, None, "Default"),
    "no contract and no default gives the built-in terms": ([], False, None, None),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_the_sql_choice_and_the_pure_rule_pick_the_same_contract_and_policy(runtime, case: str) -> None:  # type: ignore[no-untyped-def]
    terms, with_default, contract_name, policy_name = CASES[case]
    async with runtime.sessions() as session, session.begin():
        calendar = CalendarRow(name="24/7", spec={"24/7": True}, created_at=NOW, updated_at=NOW)
        clinic = Organisation(name="Clinic", created_at=NOW)
        session.add_all([calendar, clinic])
        await session.flush()
        names = ["Gold", "Silver"] + (["Default"] if with_default else [])
        policies = {
            name: PolicyRow(name=name, calendar_id=calendar.id, spec=DEFAULT_POLICY, actions={},
                            is_default=name == "Default", created_at=NOW, updated_at=NOW)
            for name in names
        }  # fmt: skip
        olga = Customer(email="olga@clinic.example", organisation_id=clinic.id, created_at=NOW)
        session.add_all([*policies.values(), olga])
        await session.flush()
        contracts = [
            ContractRow(name=term.name, policy_id=policies[term.policy].id, tier=1, coverage=[], created_at=NOW,
                        customer_id=olga.id if term.of == "customer" else None,
                        organisation_id=clinic.id if term.of == "organisation" else None,
                        valid_from=NOW + term.since * DAY,
                        valid_to=NOW + term.to * DAY if term.to is not None else None)
            for term in terms
        ]  # fmt: skip
        session.add_all(contracts)
        await session.flush()
        owner = (clinic.id, olga.id)
        default_id = policies["Default"].id if with_default else None
        by_name = {c.name: c.id for c in contracts}
        policy_ids = {name: p.id for name, p in policies.items()}

    pure_contract = choose_contract(contracts, owner, NOW)
    pure = (pure_contract.id if pure_contract else None, chosen_policy_id(pure_contract, default_id))
    async with runtime.sessions() as session:
        in_sql = await choose_policy(session, organisation_id=owner[0], customer_id=owner[1], at=NOW,
                                     cache=PolicyCache())  # fmt: skip
        batch = (await resolve_policies(session, [owner], NOW))[owner]

    expected = (by_name.get(contract_name or ""), policy_ids.get(policy_name or ""))
    assert pure == expected
    assert (in_sql.contract_id, in_sql.policy_id) == expected
    assert (batch.contract_id, batch.policy_id) == expected
