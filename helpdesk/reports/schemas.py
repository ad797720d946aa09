from __future__ import annotations

from datetime import datetime

import msgspec


class ReportFilters(msgspec.Struct, kw_only=True):
    since: datetime
    until: datetime
    queue_id: int | None = None
    priority: str | None = None
    organisation_id: int | None = None
    assignee_id: int | None = None

    def dimensions(self) -> dict[str, int | str]:
        """The queue, organisation and priority asked for, by column name (what the report counters keep)."""
        asked = {
            "queue_id": self.queue_id,
            "organisation_id": self.organisation_id,
            "priority": self.priority,
        }
        return {name: value for name, value in asked.items() if value is not None}


class SlaEvent(msgspec.Struct, kw_only=True):
    """A warning or breach of one target of one ticket."""

    ticket_id: int
    reference: str
    subject: str
    priority: str
    status: str
    queue_id: int | None
    assignee_id: int | None
    organisation_id: int | None
    target: str
    level: str
    at: datetime
    due_at: datetime | None
    margin_minutes: float | None


class TargetCompliance(msgspec.Struct, kw_only=True):
    target: str
    met: int
    breached: int
    # Met share of the targets that finished (met or breached) in the period; None when none finished.
    compliance_percent: float | None
    average_margin_minutes: float | None


class ComplianceReport(msgspec.Struct, kw_only=True):
    since: datetime
    until: datetime
    targets: list[TargetCompliance]
