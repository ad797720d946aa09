"""Who set a ticket's tag, from its audit trail (pure): the tag rule makes field work for staff's tags only."""

from __future__ import annotations

import pytest

from helpdesk.field.tag_setters import (
    TagChange,
    refusal_of_unstaffed_tags,
    setter_of,
    staff_set_tags,
    tag_change,
)

RULE = frozenset({"onsite"})
OPENED_BY_CUSTOMER = tag_change("created", None, "new", actor="Olga (customer)", by_staff=False)
OPENED_BY_AGENT = tag_change("created", None, "new", actor="Alex (agent)", by_staff=True)


def agent_sets(old: str, new: str) -> TagChange:
    return tag_change("tags", old, new, actor="Alex (agent)", by_staff=True)


def test_a_change_of_tags_adds_the_tags_new_in_it_and_an_opening_lists_none() -> None:
    assert agent_sets("onsite, urgent", "onsite, printer jam, vip").added == {"printer jam", "vip"}
    assert agent_sets("", "onsite").added == {"onsite"}
    assert OPENED_BY_CUSTOMER.added is None


@pytest.mark.parametrize(
    ("changes", "staff_set"),
    [
        # The tags a ticket was opened with are its opener's.
        ([OPENED_BY_CUSTOMER], set()),
        ([OPENED_BY_AGENT], {"onsite"}),
        # An agent who adds the tag later sets it.
        ([OPENED_BY_CUSTOMER, agent_sets("", "onsite")], {"onsite"}),
        # Editing the other tags leaves the customer's tag the customer's ...
        ([OPENED_BY_CUSTOMER, agent_sets("onsite", "onsite, urgent")], set()),
        # ... removing it and adding it again makes it the agent's.
        ([OPENED_BY_CUSTOMER, agent_sets("onsite", ""), agent_sets("", "onsite")], {"onsite"}),
        # Nobody known set it: not staff.
        ([], set()),
    ],
)
def test_a_tag_is_staffs_when_the_latest_change_that_added_it_is_else_when_staff_opened_the_ticket(
    changes: list[TagChange], staff_set: set[str]
) -> None:
    assert staff_set_tags(["onsite"], changes) == staff_set


def test_the_setter_of_a_tag_nobody_added_later_is_the_opener() -> None:
    assert setter_of("onsite", [OPENED_BY_CUSTOMER, agent_sets("", "urgent")]) == OPENED_BY_CUSTOMER


def test_the_refusal_names_the_customer_who_set_the_rule_tag() -> None:
    assert refusal_of_unstaffed_tags(["onsite", "urgent"], [OPENED_BY_CUSTOMER], RULE) == (
        "no work order: 'onsite' was set by Olga (customer), not by staff"
    )


@pytest.mark.parametrize(
    ("tags", "changes"),
    [
        (["urgent"], [OPENED_BY_CUSTOMER]),  # no rule tag: nothing to explain
        (["onsite"], [OPENED_BY_AGENT]),  # staff set it: the rule applies
    ],
)
def test_there_is_no_refusal_without_a_rule_tag_or_when_staff_set_it(
    tags: list[str], changes: list[TagChange]
) -> None:
    assert refusal_of_unstaffed_tags(tags, changes, RULE) is None
