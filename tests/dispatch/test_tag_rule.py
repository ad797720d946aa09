"""The tag rule's decision (pure): which tickets get a work order, and at which asset."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch.rules import SiteCandidate, TaggedOrderOutcome, tagged_order_decision

RULE = frozenset({"onsite", "vor-ort"})
BOILER = SiteCandidate(1, "SN-1", "Boiler")
PUMP = SiteCandidate(2, "SN-2", "Heat pump")
OFFICE = SiteCandidate(3, "SN-3", "Air conditioner")


@pytest.mark.parametrize(
    ("tags", "orders", "customer_sites", "organisation_sites", "outcome", "asset_id"),
    [
        (["urgent"], [], [BOILER], [], TaggedOrderOutcome.NOT_TAGGED, None),
        ([], [], [BOILER], [], TaggedOrderOutcome.NOT_TAGGED, None),
        (["onsite"], [7], [BOILER], [], TaggedOrderOutcome.HAS_ORDER, None),
        (["onsite"], [], [], [], TaggedOrderOutcome.NO_SITE, None),
        (["onsite"], [], [BOILER, PUMP], [], TaggedOrderOutcome.SEVERAL_SITES, None),
        (["onsite"], [], [], [BOILER, OFFICE], TaggedOrderOutcome.SEVERAL_SITES, None),
        (["onsite"], [], [BOILER], [], TaggedOrderOutcome.CREATE, 1),
        (["vor-ort", "urgent"], [], [], [OFFICE], TaggedOrderOutcome.CREATE, 3),
        # The customer's own asset wins over their organisation's.
        (["onsite"], [], [PUMP], [BOILER, OFFICE], TaggedOrderOutcome.CREATE, 2),
    ],
)
def test_the_rule_creates_only_for_a_tagged_ticket_without_a_work_order_at_a_single_known_site(
    tags: list[str],
    orders: list[int],
    customer_sites: list[SiteCandidate],
    organisation_sites: list[SiteCandidate],
    outcome: TaggedOrderOutcome,
    asset_id: int | None,
) -> None:
    decision = tagged_order_decision(RULE, tags, orders, customer_sites, organisation_sites)

    assert (decision.outcome, decision.asset_id) == (outcome, asset_id)


def test_a_refusal_says_why_in_words() -> None:
    decision = tagged_order_decision(RULE, ["onsite"], [], [BOILER, PUMP], [])

    assert decision.tag == "onsite"
    assert decision.detail == (
        "the customer has 2 assets (Boiler SN-1, Heat pump SN-2); which one needs the visit is not known"
    )


sites = st.lists(
    st.builds(SiteCandidate, st.integers(1, 50), st.text(min_size=1, max_size=5), st.just("Boiler")),
    max_size=4,
)


@given(
    tags=st.lists(st.sampled_from(["onsite", "vor-ort", "urgent", "vip"]), max_size=3),
    orders=st.lists(st.integers(1, 100), max_size=2),
    customer_sites=sites,
    organisation_sites=sites,
)
def test_a_work_order_is_made_only_at_a_site_that_is_the_owners_only_one(
    tags: list[str],
    orders: list[int],
    customer_sites: list[SiteCandidate],
    organisation_sites: list[SiteCandidate],
) -> None:
    decision = tagged_order_decision(RULE, tags, orders, customer_sites, organisation_sites)

    if decision.outcome == TaggedOrderOutcome.CREATE:
        assert not orders
        assert decision.tag in RULE
        assert decision.tag in tags
        owner_sites = customer_sites or organisation_sites
        assert [s.asset_id for s in owner_sites] == [decision.asset_id]
    else:
        assert decision.asset_id is None
