"""API shapes of the e-mail channel's review of flagged and failed inbound mail."""

from __future__ import annotations

from datetime import datetime

import msgspec


class FlaggedMailRead(msgspec.Struct, kw_only=True):
    """An inbound mail waiting for a person: who sent it, about what, and why it became no ticket."""

    id: int
    received_at: datetime
    status: str  # "flagged" or "failed"
    sender: str  # the From header as written, decoded; "" when the mail has none
    subject: str
    reason: str  # why it was flagged, or the last processing error
    source: str
    size: int
    attempts: int


class FlaggedMailPage(msgspec.Struct, kw_only=True):
    items: list[FlaggedMailRead]
    page: int
    per_page: int
    total: int
    has_next: bool


class InboundStatusChange(msgspec.Struct, kw_only=True):
    """What an action on a flagged mail changed."""

    id: int
    old_status: str
    status: str
