"""SLA tables: calendars, policies, contracts, each ticket's SLA snapshot, target states and fired escalations.

Tickets, organisations and customers belong to ``helpdesk``; they are referenced here by table name only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.core.db import Base, BigId, IntPK


class CalendarRow(Base):
    __tablename__ = "sla_calendar"

    id: Mapped[IntPK]
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # The CalendarSpec as the API accepted it.
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class PolicyRow(Base):
    __tablename__ = "sla_policy"

    id: Mapped[IntPK]
    name: Mapped[str] = mapped_column(String(100), unique=True)
    calendar_id: Mapped[int] = mapped_column(BigId, ForeignKey("sla_calendar.id"))
    # The SlaPolicy (targets per priority, warnings, pausing statuses) as accepted.
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    # What each level does: {"warning_1": [{"type": "notify_assignee"}], "breach": [...]}.
    actions: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Page people at any hour (24/7 support) instead of waiting for the calendar's next working minute.
    notify_any_hour: Mapped[bool] = mapped_column(Boolean, default=False)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    # Bumped on every edit; tickets keep the version they were given until a recompute moves them on.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ContractRow(Base):
    __tablename__ = "sla_contract"

    id: Mapped[IntPK]
    name: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("organisation.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )
    policy_id: Mapped[int] = mapped_column(BigId, ForeignKey("sla_policy.id"))
    valid_from: Mapped[datetime]
    valid_to: Mapped[datetime | None]
    # Priority levels the contract adds to the impact × urgency matrix (1: P3 becomes P2).
    tier: Mapped[int] = mapped_column(Integer, default=0)
    # What the contract covers, e.g. ["warranty", "premium_24_7"].
    coverage: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime]


class TicketSlaRow(Base):
    """The policy a ticket runs under, frozen as a snapshot so later policy edits change nothing silently."""

    __tablename__ = "ticket_sla"

    ticket_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True
    )
    policy_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("sla_policy.id"))
    policy_version: Mapped[int] = mapped_column(Integer)
    contract_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("sla_contract.id", ondelete="SET NULL"))
    policy_spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    calendar_spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    actions: Mapped[dict[str, Any]] = mapped_column(JSON)
    notify_any_hour: Mapped[bool] = mapped_column(Boolean, default=False)
    assigned_at: Mapped[datetime]


class TargetStateRow(Base):
    """Each target's latest state: what managers report breaches and compliance on."""

    __tablename__ = "ticket_sla_target"
    __table_args__ = (
        Index("ix_ticket_sla_target_state", "target", "state", "breached_at"),
        # Compliance over time counts clocks by when they finished: met, or breached and never met.
        Index("ix_ticket_sla_target_met_at", "met_at"),
        Index("ix_ticket_sla_target_breached_at", "breached_at"),
    )

    ticket_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True
    )
    target: Mapped[str] = mapped_column(String(20), primary_key=True)
    state: Mapped[str] = mapped_column(String(10))
    target_minutes: Mapped[int] = mapped_column(Integer)
    clock_started_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    met_at: Mapped[datetime | None]
    breached_at: Mapped[datetime | None]
    margin_minutes: Mapped[float] = mapped_column(Float)
    # When the ticket entered the stopping statuses (resolved, closed) it is still in, SlaStatus.stopped_at;
    # null while its clocks run. ``state`` keeps what the clock was when it stopped (reports count a breach
    # never met as breached), so this is what tells a closed ticket's breach from one still running.
    stopped_at: Mapped[datetime | None]


class EscalationFiredRow(Base):
    """A level that fired; the unique key makes each level fire once per ticket, target and clock cycle."""

    __tablename__ = "sla_escalation"
    __table_args__ = (
        UniqueConstraint("ticket_id", "target", "level", "clock_started_at", name="uq_sla_escalation_once"),
    )

    id: Mapped[IntPK]
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    target: Mapped[str] = mapped_column(String(20))
    level: Mapped[str] = mapped_column(String(20))
    clock_started_at: Mapped[datetime]
    due_at: Mapped[datetime]
    fired_at: Mapped[datetime]
    # Set once the level's actions (notifications, notes, priority) have run: the action job's marker.
    actions_done_at: Mapped[datetime | None]


class ScheduledStepRow(Base):
    """A warning or breach still to notify, as the last recompute of the ticket scheduled it.

    The sweep reads these by ``notify_at`` (indexed) instead of re-evaluating tickets, so its cost is a few
    set-based statements per batch; every event on a ticket rewrites its rows.
    """

    __tablename__ = "sla_scheduled_step"

    ticket_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("ticket.id", ondelete="CASCADE"), primary_key=True
    )
    target: Mapped[str] = mapped_column(String(20), primary_key=True)
    level: Mapped[str] = mapped_column(String(20), primary_key=True)
    clock_started_at: Mapped[datetime] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    notify_at: Mapped[datetime] = mapped_column(index=True)
