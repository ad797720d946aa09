"""API shapes of field service: skills, assets, technicians, work orders, plans and job lists."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from dispatch.rules import WorkOrderStatus
from dispatch.warranty import Billing
from helpdesk.core.types import Id, Name
from sla.calendar import CalendarSpec, Interval

Lat = Annotated[float, msgspec.Meta(ge=-90, le=90, description="WGS84 latitude")]
Lon = Annotated[float, msgspec.Meta(ge=-180, le=180, description="WGS84 longitude")]
SkillName = Annotated[str, msgspec.Meta(min_length=1, max_length=50, pattern=r"^[a-z0-9][a-z0-9_.-]*$")]
SkillLevel = Annotated[int, msgspec.Meta(ge=0, le=10)]
Skills = Annotated[dict[SkillName, SkillLevel], msgspec.Meta(max_length=50)]
Address = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
Part = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Parts = Annotated[list[Part], msgspec.Meta(max_length=100)]
Text = Annotated[str, msgspec.Meta(max_length=10_000)]
Serial = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class SkillCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: SkillName
    description: Annotated[str, msgspec.Meta(max_length=300)] = ""


class SkillRead(msgspec.Struct, kw_only=True):
    id: int
    name: str
    description: str


class AssetCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    serial_number: Serial
    product: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    model: Annotated[str, msgspec.Meta(max_length=200)] = ""
    organisation_id: Id | None = None
    customer_id: Id | None = None
    site_address: Address
    lat: Lat
    lon: Lon
    installed_on: date | None = None
    warranty_until: date | None = None
    warranty_terms: Text = ""
    contract_id: Id | None = None


class AssetRead(msgspec.Struct, kw_only=True):
    id: int
    serial_number: str
    product: str
    model: str
    organisation_id: int | None
    customer_id: int | None
    site_address: str
    lat: float
    lon: float
    installed_on: date | None
    warranty_until: date | None
    warranty_terms: str
    contract_id: int | None


class TechnicianCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A staff user with the role technician. ``hours`` is a business calendar (sla): weekly hours in the
    technician's zone, absence days as ``holidays``, extra days as ``extra_working_days``; ``overtime``
    allows extra minutes on given dates."""

    user_id: Id
    skills: Skills = msgspec.field(default_factory=dict)
    home_address: Annotated[str, msgspec.Meta(max_length=500)] = ""
    home_lat: Lat
    home_lon: Lon
    hours: CalendarSpec
    overtime: dict[date, Annotated[int, msgspec.Meta(ge=0, le=720)]] = msgspec.field(default_factory=dict)
    lunch_window: Interval | None = None
    lunch_minutes: Annotated[int, msgspec.Meta(ge=1, le=180)] = 30
    daily_limit_minutes: Annotated[int, msgspec.Meta(ge=1, le=1440)] | None = None


class TechnicianUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    skills: Skills | msgspec.UnsetType = msgspec.UNSET
    home_address: Annotated[str, msgspec.Meta(max_length=500)] | msgspec.UnsetType = msgspec.UNSET
    home_lat: Lat | msgspec.UnsetType = msgspec.UNSET
    home_lon: Lon | msgspec.UnsetType = msgspec.UNSET
    hours: CalendarSpec | msgspec.UnsetType = msgspec.UNSET
    overtime: dict[date, Annotated[int, msgspec.Meta(ge=0, le=720)]] | msgspec.UnsetType = msgspec.UNSET
    lunch_window: Interval | msgspec.UnsetType | None = msgspec.UNSET
    lunch_minutes: Annotated[int, msgspec.Meta(ge=1, le=180)] | msgspec.UnsetType = msgspec.UNSET
    daily_limit_minutes: Annotated[int, msgspec.Meta(ge=1, le=1440)] | msgspec.UnsetType | None = (
        msgspec.UNSET
    )
    is_active: bool | msgspec.UnsetType = msgspec.UNSET


class TechnicianRead(msgspec.Struct, kw_only=True):
    id: int
    user_id: int
    name: str
    skills: dict[str, int]
    home_address: str
    home_lat: float
    home_lon: float
    hours: CalendarSpec
    overtime: dict[str, int]
    lunch_window: str | None
    lunch_minutes: int
    daily_limit_minutes: int | None
    is_active: bool
    # Shown once, when the technician is created or the token is rotated.
    ical_url: str | None = None


class Location(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    address: Address
    lat: Lat
    lon: Lon


class Window(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    start_at: datetime
    end_at: datetime


class WorkOrderCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A visit for a ticket. The location comes from the asset unless given; the deadline is the ticket's
    resolution due time; the priority is the ticket's unless given (1 most urgent)."""

    ticket_id: Id
    asset_id: Id | None = None
    asset_serial: Serial | None = None
    location: Location | None = None
    required_skills: Skills = msgspec.field(default_factory=dict)
    duration_minutes: Annotated[int, msgspec.Meta(ge=1, le=1440)]
    windows: Annotated[list[Window], msgspec.Meta(max_length=20)] = msgspec.field(default_factory=list)
    priority: Annotated[int, msgspec.Meta(ge=1, le=4)] | None = None
    required_parts: Parts = msgspec.field(default_factory=list)


class TransitionRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    version: Id
    status: Literal["dispatched", "en_route", "on_site", "cannot_complete", "cancelled", "unscheduled"]
    reason: Text = ""


class CompletionRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """``all_done`` false records the visit but leaves the ticket open with a note."""

    version: Id
    time_on_site_minutes: Annotated[int, msgspec.Meta(ge=0, le=1440)] | None = None
    parts_used: Parts = msgspec.field(default_factory=list)
    notes: Text = ""
    signoff_name: Annotated[str, msgspec.Meta(max_length=200)] = ""
    all_done: bool = True


class EventRead(msgspec.Struct, kw_only=True):
    actor: str
    field: str
    old_value: str | None
    new_value: str | None
    note: str
    created_at: datetime


class WorkOrderRead(msgspec.Struct, kw_only=True):
    id: int
    reference: str
    ticket_id: int
    ticket_reference: str
    summary: str
    status: WorkOrderStatus
    priority: int
    version: int
    asset_id: int | None
    address: str
    lat: float
    lon: float
    required_skills: dict[str, int]
    required_parts: list[str]
    duration_minutes: int
    windows: list[Window]
    deadline_at: datetime | None
    billing: Billing
    billing_reason: str
    contract_id: int | None
    unscheduled_reason: str | None
    technician_id: int | None
    planned_start_at: datetime | None
    planned_end_at: datetime | None
    window_start_at: datetime | None
    window_end_at: datetime | None
    time_on_site_minutes: int | None
    parts_used: list[str]
    completion_notes: str
    signoff_name: str
    outcome_reason: str


class WorkOrderDetail(WorkOrderRead, kw_only=True):
    events: list[EventRead]


class PlanCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    day: date
    time_limit_seconds: Annotated[float, msgspec.Meta(ge=0, le=300)] = 10.0


class ReplanCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Re-plan the rest of the published plan's day from now; started orders stay where they are."""

    emergency_work_order_ids: Annotated[list[Id], msgspec.Meta(max_length=50)] = msgspec.field(
        default_factory=list
    )
    time_limit_seconds: Annotated[float, msgspec.Meta(ge=0, le=300)] = 5.0


class MoveRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Put a work order on ``technician_id``'s route at ``position`` (0 first), or unplan it (null)."""

    work_order_id: Id
    technician_id: Id | None
    position: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 0


class PlanVisitRead(msgspec.Struct, kw_only=True):
    work_order_id: int
    technician_id: int
    position: int
    arrival_at: datetime
    start_at: datetime
    end_at: datetime
    lateness_minutes: int


class UnscheduledRead(msgspec.Struct, kw_only=True):
    work_order_id: int
    reason: str
    detail: str


class PlanRead(msgspec.Struct, kw_only=True):
    id: int
    day: date
    version: int
    kind: str
    status: str
    base_plan_id: int | None
    technician_count: int
    order_count: int
    served_count: int
    unscheduled_count: int
    travel_minutes: int
    lateness_minutes: int
    overtime_minutes: int
    solver: str
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    published_at: datetime | None
    visits: list[PlanVisitRead]
    unscheduled: list[UnscheduledRead]


class HistoryRead(msgspec.Struct, kw_only=True):
    author: str
    body: str
    created_at: datetime


class AssetSummary(msgspec.Struct, kw_only=True):
    id: int
    serial_number: str
    product: str
    model: str
    warranty_until: date | None


class JobRead(msgspec.Struct, kw_only=True):
    work_order_id: int
    reference: str
    status: WorkOrderStatus
    version: int
    position: int
    planned_start_at: datetime | None
    planned_end_at: datetime | None
    window_start_at: datetime | None
    window_end_at: datetime | None
    address: str
    lat: float
    lon: float
    geo_uri: str
    contact_name: str
    contact_email: str
    contact_phone: str
    asset: AssetSummary | None
    billing: Billing
    billing_reason: str
    ticket_id: int
    ticket_reference: str
    summary: str
    history: list[HistoryRead]
    required_parts: list[str]
    required_skills: dict[str, int]
    duration_minutes: int


class JobList(msgspec.Struct, kw_only=True):
    technician_id: int
    technician_name: Name
    day: date
    jobs: list[JobRead]
    # The technician's calendar zone (IANA): their day and the times they are shown are in it.
    time_zone: str = "UTC"
