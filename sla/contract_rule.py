"""Which contract and which policy decide a new ticket's SLA: the one statement of the rule. Pure.

The customer's contract valid at the time, else the organisation's (the newest ``valid_from`` among equals),
and that contract's policy; without a contract the default policy, and without one the built-in terms.
``sla.resolution`` applies it to the rows it reads; ``sla.choice`` states it in SQL so that it rides along
with the intake query, and tests/sla/test_sla_rule_agreement.py holds the two to the same answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, TypeVar

# (organisation id, customer id) of the customer a new ticket is for.
Owner = tuple[int | None, int | None]


class ContractLike(Protocol):
    @property
    def customer_id(self) -> int | None: ...
    @property
    def organisation_id(self) -> int | None: ...
    @property
    def valid_from(self) -> datetime: ...
    @property
    def valid_to(self) -> datetime | None: ...


class PolicyContractLike(ContractLike, Protocol):
    @property
    def policy_id(self) -> int: ...


C = TypeVar("C", bound=ContractLike)


def valid_at(contract: ContractLike, at: datetime) -> bool:
    """Whether ``contract`` is in force at ``at`` (``valid_to`` is exclusive)."""
    return contract.valid_from <= at and (contract.valid_to is None or contract.valid_to > at)


def choose_contract(contracts: Sequence[C], owner: Owner, at: datetime) -> C | None:
    """The contract that decides ``owner``'s policy at ``at``: one naming the customer beats one found
    through the organisation; the latest ``valid_from`` wins among equals."""
    organisation_id, customer_id = owner
    matching = [
        contract
        for contract in contracts
        if ((customer_id is not None and contract.customer_id == customer_id)
            or (organisation_id is not None and contract.organisation_id == organisation_id))
        and valid_at(contract, at)
    ]  # fmt: skip
    if not matching:
        return None
    return min(matching, key=lambda c: (c.customer_id is None, -c.valid_from.timestamp()))


def chosen_policy_id(contract: PolicyContractLike | None, default_policy_id: int | None) -> int | None:
    """The policy a new ticket runs under: the contract's, else the default one; None means the built-in
    terms (no policy in the database at all)."""
    return contract.policy_id if contract is not None else default_policy_id
