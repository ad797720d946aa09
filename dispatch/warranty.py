"""Who pays for a visit: the asset's warranty, else a contract that covers it, else the customer.

Pure: the caller passes the asset's facts, the contracts in force and the day of the decision. The reason is
a sentence for people; it is stored on the work order and audited with the decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

# A contract with one of these in its ``coverage`` pays for on-site work on an asset out of warranty.
COVERING = ("warranty", "maintenance")


class Billing(StrEnum):
    WARRANTY = "warranty"
    CONTRACT = "contract"
    BILLABLE = "billable"


@dataclass(frozen=True, slots=True)
class AssetWarranty:
    serial_number: str
    warranty_until: date | None
    warranty_terms: str = ""
    contract_id: int | None = None


@dataclass(frozen=True, slots=True)
class ContractCoverage:
    id: int
    name: str
    coverage: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BillingDecision:
    billing: Billing
    reason: str
    contract_id: int | None = None


def decide_billing(
    asset: AssetWarranty | None, contracts: Sequence[ContractCoverage], on: date
) -> BillingDecision:
    """In warranty on ``on`` (the last day included) → warranty; else a contract in force that covers
    warranty or maintenance (the asset's own contract first) → contract; else billable. No asset → billable
    with the reason "no asset". ``contracts`` are those in force on ``on`` for the asset's owner."""
    if asset is None:
        return BillingDecision(Billing.BILLABLE, "no asset: the work is billable")
    if asset.warranty_until is not None and on <= asset.warranty_until:
        terms = f" ({asset.warranty_terms})" if asset.warranty_terms else ""
        return BillingDecision(
            Billing.WARRANTY,
            f"asset {asset.serial_number} is in warranty until {asset.warranty_until}{terms}",
        )
    ended = (
        f"warranty of {asset.serial_number} ended {asset.warranty_until}"
        if asset.warranty_until is not None
        else f"asset {asset.serial_number} has no warranty"
    )
    covering = [c for c in contracts if any(kind in c.coverage for kind in COVERING)]
    covering.sort(key=lambda c: (c.id != asset.contract_id, c.id))
    if covering:
        chosen = covering[0]
        kinds = ", ".join(k for k in COVERING if k in chosen.coverage)
        return BillingDecision(
            Billing.CONTRACT, f"{ended}; covered by contract {chosen.name!r} ({kinds})", chosen.id
        )
    return BillingDecision(Billing.BILLABLE, f"{ended}; no contract in force covers warranty or maintenance")
