"""Field service tables: skills, assets, technicians, work orders and their events, plans and planned visits.

Tickets, customers, organisations, staff users and contracts belong to ``helpdesk`` and ``sla``; they are
referenced here by table name only.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from helpdesk.core.db import Base, BigId, IntPK


class SkillRow(Base):
    """The catalogue of skills: technicians hold them and work orders require them by name."""

    __tablename__ = "dispatch_skill"

    id: Mapped[IntPK]
    name: Mapped[str] = mapped_column(String(50), unique=True)
    description: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime]


class AssetRow(Base):
    """An installed product at a customer's site; its warranty and contract decide who pays for a visit."""

    __tablename__ = "asset"
    __table_args__ = (UniqueConstraint("product", "serial_number", name="uq_asset_product_serial"),)

    id: Mapped[IntPK]
    serial_number: Mapped[str] = mapped_column(String(100), index=True)
    product: Mapped[str] = mapped_column(String(200))
    model: Mapped[str] = mapped_column(String(200), default="")
    organisation_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("organisation.id", ondelete="SET NULL"), index=True
    )
    customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customer.id", ondelete="SET NULL"))
    site_address: Mapped[str] = mapped_column(String(500))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    installed_on: Mapped[date | None] = mapped_column(Date)
    warranty_until: Mapped[date | None] = mapped_column(Date)
    warranty_terms: Mapped[str] = mapped_column(Text, default="")
    contract_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("sla_contract.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class TechnicianRow(Base):
    """A staff user who works in the field: skills, home base, hours and the secret of their calendar feed."""

    __tablename__ = "technician"

    id: Mapped[IntPK]
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff_user.id", ondelete="CASCADE"), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # {"boiler": 2, "electrical": 1}: skill name → level held.
    skills: Mapped[dict[str, int]] = mapped_column(JSON)
    home_address: Mapped[str] = mapped_column(String(500), default="")
    home_lat: Mapped[float] = mapped_column(Float)
    home_lon: Mapped[float] = mapped_column(Float)
    # An sla CalendarSpec: weekly hours in the technician's zone, absence days as holidays, extra days.
    hours: Mapped[dict[str, Any]] = mapped_column(JSON)
    # {"2027-03-02": 60}: overtime minutes allowed on a date.
    overtime: Mapped[dict[str, int]] = mapped_column(JSON)
    lunch_window: Mapped[str | None] = mapped_column(String(20))
    lunch_minutes: Mapped[int] = mapped_column(Integer, default=30)
    daily_limit_minutes: Mapped[int | None] = mapped_column(Integer)
    # SHA-256 of the iCalendar feed token; the token itself is shown once.
    ical_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WorkOrderRow(Base):
    __tablename__ = "work_order"
    __table_args__ = (Index("ix_work_order_technician_day", "technician_id", "planned_day"),)

    id: Mapped[IntPK]
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    ticket_reference: Mapped[str] = mapped_column(String(30))
    summary: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), index=True)
    priority: Mapped[int] = mapped_column(Integer)
    asset_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("asset.id", ondelete="SET NULL"))
    customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customer.id", ondelete="SET NULL"))
    organisation_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("organisation.id", ondelete="SET NULL")
    )
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(320), default="")
    contact_phone: Mapped[str] = mapped_column(String(50), default="")
    address: Mapped[str] = mapped_column(String(500))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    required_skills: Mapped[dict[str, int]] = mapped_column(JSON)
    required_parts: Mapped[list[str]] = mapped_column(JSON)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    # [[start, end], ...] ISO 8601 aware: when the customer can receive the technician.
    windows: Mapped[list[list[str]]] = mapped_column(JSON)
    deadline_at: Mapped[datetime | None]
    # warranty | contract | billable, and why: shown to people and audited.
    billing: Mapped[str] = mapped_column(String(20))
    billing_reason: Mapped[str] = mapped_column(String(500))
    contract_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("sla_contract.id", ondelete="SET NULL"))
    unscheduled_reason: Mapped[str | None] = mapped_column(String(500))
    technician_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("technician.id", ondelete="SET NULL"))
    planned_day: Mapped[date | None] = mapped_column(Date)
    planned_start_at: Mapped[datetime | None]
    planned_end_at: Mapped[datetime | None]
    # The arrival window told to the customer.
    window_start_at: Mapped[datetime | None]
    window_end_at: Mapped[datetime | None]
    plan_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("dispatch_plan.id", ondelete="SET NULL"))
    # The plan whose appointment the customer was told about (makes the notice idempotent).
    notified_plan_id: Mapped[int | None] = mapped_column(BigId)
    arrived_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    time_on_site_minutes: Mapped[int | None] = mapped_column(Integer)
    parts_used: Mapped[list[str]] = mapped_column(JSON)
    completion_notes: Mapped[str] = mapped_column(Text, default="")
    signoff_name: Mapped[str] = mapped_column(String(200), default="")
    outcome_reason: Mapped[str] = mapped_column(String(500), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __mapper_args__ = {"version_id_col": version}

    @property
    def reference(self) -> str:
        return f"WO-{self.id}"


class WorkOrderEventRow(Base):
    """One audited step of a work order; ``mirrored_at`` marks that the ticket got its internal note."""

    __tablename__ = "work_order_event"

    id: Mapped[IntPK]
    work_order_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("work_order.id", ondelete="CASCADE"), index=True
    )
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("ticket.id", ondelete="CASCADE"))
    actor: Mapped[str] = mapped_column(String(200))
    actor_user_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff_user.id", ondelete="SET NULL"))
    field: Mapped[str] = mapped_column(String(30))
    old_value: Mapped[str | None] = mapped_column(String(500))
    new_value: Mapped[str | None] = mapped_column(String(500))
    note: Mapped[str] = mapped_column(Text, default="")
    # The ticket is resolved when this event is mirrored (a completion with everything done).
    resolves_ticket: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    mirrored_at: Mapped[datetime | None]


class PlanRow(Base):
    """One planning run for a day: progress while it runs, then a versioned plan to review and publish."""

    __tablename__ = "dispatch_plan"
    __table_args__ = (UniqueConstraint("day", "version", name="uq_dispatch_plan_day_version"),)

    id: Mapped[IntPK]
    day: Mapped[date] = mapped_column(Date, index=True)
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    # queued → running → done | failed; done → published | superseded.
    status: Mapped[str] = mapped_column(String(12))
    base_plan_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("dispatch_plan.id"))
    emergency_ids: Mapped[list[int]] = mapped_column(JSON)
    replan_at: Mapped[datetime | None]
    time_limit_seconds: Mapped[float] = mapped_column(Float)
    day_start: Mapped[datetime | None]
    technician_count: Mapped[int] = mapped_column(Integer, default=0)
    order_count: Mapped[int] = mapped_column(Integer, default=0)
    served_count: Mapped[int] = mapped_column(Integer, default=0)
    unscheduled_count: Mapped[int] = mapped_column(Integer, default=0)
    travel_seconds: Mapped[int] = mapped_column(Integer, default=0)
    lateness_seconds: Mapped[int] = mapped_column(Integer, default=0)
    overtime_seconds: Mapped[int] = mapped_column(Integer, default=0)
    solver: Mapped[str] = mapped_column(String(20), default="")
    # {technician_id: {"departure": s, "return": s, "lunch": [s, e] | null, ...}} in seconds from day_start.
    routes: Mapped[dict[str, Any]] = mapped_column(JSON)
    # [{"work_order_id": 3, "reason": "no_skilled_technician", "detail": "..."}]
    unscheduled: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    edit_count: Mapped[int] = mapped_column(Integer, default=0)


class PlanVisitRow(Base):
    __tablename__ = "dispatch_plan_visit"
    __table_args__ = (UniqueConstraint("plan_id", "work_order_id", name="uq_dispatch_plan_visit_order"),)

    id: Mapped[IntPK]
    plan_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("dispatch_plan.id", ondelete="CASCADE"), index=True
    )
    technician_id: Mapped[int] = mapped_column(BigId, ForeignKey("technician.id", ondelete="CASCADE"))
    work_order_id: Mapped[int] = mapped_column(BigId, ForeignKey("work_order.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    arrival_seconds: Mapped[int] = mapped_column(Integer)
    start_seconds: Mapped[int] = mapped_column(Integer)
    end_seconds: Mapped[int] = mapped_column(Integer)
    lateness_seconds: Mapped[int] = mapped_column(Integer, default=0)
