"""Every ticket and work-order status (and the plan's states, billing and unplanned reasons) has words in
English and Russian: no page shows a raw code such as pending_customer or en_route."""

from __future__ import annotations

import pytest

from dispatch.planning import UnscheduledReason
from dispatch.plans import PlanStatus
from dispatch.rules import WorkOrderStatus
from dispatch.warranty import Billing
from helpdesk.tickets.rules import TicketStatus
from helpdesk.web.i18n import translations

CODES = sorted(
    {str(s) for s in TicketStatus}
    | {str(s) for s in WorkOrderStatus}
    | {v for k, v in vars(PlanStatus).items() if k.isupper()}
    | {str(b) for b in Billing}
    | {str(r) for r in UnscheduledReason}
)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_every_status_code_reads_as_words(language: str) -> None:
    gettext = translations(language).gettext
    raw = [code for code in CODES if "_" in gettext(code)]
    assert raw == []
    if language == "ru":
        untranslated = [code for code in CODES if gettext(code) == code]
        assert untranslated == []
