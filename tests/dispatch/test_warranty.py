"""Who pays for a visit: warranty, a covering contract, or the customer — with the reason."""

from __future__ import annotations

from datetime import date

import pytest

from dispatch.warranty import AssetWarranty, Billing, ContractCoverage, decide_billing

TODAY = date(2027, 3, 1)
GOLD = ContractCoverage(7, "Gold", ("maintenance", "premium_24_7"))
WARRANTY_EXT = ContractCoverage(8, "Extended warranty", ("warranty",))
SUPPORT_ONLY = ContractCoverage(9, "Phone support", ("premium_24_7",))


@pytest.mark.parametrize(
    ("asset", "contracts", "billing", "contract_id", "reason_has"),
    [
        (
            AssetWarranty("SN1", date(2027, 12, 31), "2 years parts"),
            [],
            Billing.WARRANTY,
            None,
            "in warranty until 2027-12-31 (2 years parts)",
        ),
        (AssetWarranty("SN1", TODAY), [], Billing.WARRANTY, None, "in warranty until 2027-03-01"),
        (
            AssetWarranty("SN1", date(2026, 1, 31)),
            [],
            Billing.BILLABLE,
            None,
            "warranty of SN1 ended 2026-01-31",
        ),
        (AssetWarranty("SN1", None), [], Billing.BILLABLE, None, "has no warranty"),
        (
            AssetWarranty("SN1", date(2026, 1, 31)),
            [GOLD],
            Billing.CONTRACT,
            7,
            "covered by contract 'Gold' (maintenance)",
        ),
        (AssetWarranty("SN1", date(2026, 1, 31)), [WARRANTY_EXT], Billing.CONTRACT, 8, "(warranty)"),
        (
            AssetWarranty("SN1", date(2026, 1, 31)),
            [SUPPORT_ONLY],
            Billing.BILLABLE,
            None,
            "no contract in force covers",
        ),
        (
            AssetWarranty("SN1", date(2026, 1, 31), contract_id=8),
            [GOLD, WARRANTY_EXT],
            Billing.CONTRACT,
            8,
            "Extended warranty",
        ),
        (AssetWarranty("SN1", date(2027, 12, 31)), [GOLD], Billing.WARRANTY, None, "in warranty"),
        (None, [GOLD], Billing.BILLABLE, None, "no asset"),
    ],
    ids=[
        "in-warranty",
        "last-day-of-warranty",
        "expired",
        "never-had-warranty",
        "contract-covers-maintenance",
        "contract-covers-warranty",
        "contract-covers-something-else",
        "assets-own-contract-first",
        "warranty-beats-contract",
        "no-asset",
    ],
)
def test_billing_decision_and_its_reason(
    asset: AssetWarranty | None,
    contracts: list[ContractCoverage],
    billing: Billing,
    contract_id: int | None,
    reason_has: str,
) -> None:
    decision = decide_billing(asset, contracts, TODAY)
    assert decision.billing == billing
    assert decision.contract_id == contract_id
    assert reason_has in decision.reason
