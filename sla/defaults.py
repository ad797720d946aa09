"""The policy a ticket runs under when there is neither a contract nor a default policy in the database."""

from __future__ import annotations

from typing import Any

DEFAULT_CALENDAR: dict[str, Any] = {
    "timezone": "UTC",
    "week": {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
}

# Business minutes: P1 answered within the hour and fixed the same day, P4 within two days and two weeks.
DEFAULT_POLICY: dict[str, Any] = {
    "targets": {
        "P1": {"first_response_minutes": 60, "next_response_minutes": 120, "resolution_minutes": 480},
        "P2": {"first_response_minutes": 240, "next_response_minutes": 480, "resolution_minutes": 1440},
        "P3": {"first_response_minutes": 480, "next_response_minutes": 960, "resolution_minutes": 2400},
        "P4": {"first_response_minutes": 960, "next_response_minutes": 1920, "resolution_minutes": 4800},
    },
    "warnings": [{"percent_of_target": 75}],
    "pausing_statuses": ["pending_customer"],
}

DEFAULT_ACTIONS: dict[str, Any] = {
    "warning_1": [{"type": "notify_assignee"}],
    "breach": [{"type": "notify_assignee"}, {"type": "notify_managers"}, {"type": "internal_note"}],
}
