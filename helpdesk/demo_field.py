"""Demo data beyond tickets: knowledge-base articles, a technician with skills, an asset under warranty and
work orders waiting to be planned, so every part of the product has something to show on a first run."""

from __future__ import annotations

from datetime import timedelta

import msgspec

from dispatch.resources import AssetService, SkillService, TechnicianService
from dispatch.schemas import AssetCreate, SkillCreate, TechnicianCreate, WorkOrderCreate
from dispatch.service import WorkOrderService
from helpdesk.accounts.models import User
from helpdesk.core.principal import Principal
from helpdesk.field.tickets import HelpdeskTickets
from helpdesk.runtime import Runtime
from knowledge_base.schemas import ArticleCreate
from knowledge_base.service import ArticleService
from sla.calendar import CalendarSpec

ARTICLES = [
    (
        "Autoclave shows error E-104",
        "E-104 means the chamber did not reach pressure in time.\n\n1. Check the door seal for cracks.\n"
        "2. Descale the steam generator.\n3. Run a test cycle. If E-104 returns, book a technician.",
    ),
    (
        "X-ray sensor not detected after a Windows update",
        "Reinstall the sensor driver from the imaging software's *Tools → Devices* menu, then unplug the sensor "
        "for ten seconds. Windows updates sometimes replace the USB driver.",
    ),
    (
        "Dental chair sinks slowly: hydraulic leak",
        "Oil under the chair and a seat that sinks point to a leaking hydraulic hose. Stop using the chair and "
        "open a request with the chair's serial number; a technician replaces the hose on site.",
    ),
    (
        "Compressor is loud or trips the breaker",
        "Drain the condensate from the tank, check the intake filter and make sure the room is ventilated. "
        "A compressor that keeps tripping the breaker needs a technician.",
    ),
    (
        "How to request annual maintenance",
        "Annual maintenance is included in the premium contract. Open a request with the subject "
        "*Annual maintenance* and the serial numbers; we propose a visit window by e-mail.",
    ),
    (
        "Weak suction on a treatment unit",
        "Clean the suction filter on the unit and the amalgam separator. Weak suction on every chair points to "
        "the central suction motor.",
    ),
]
ARTICLES_RU = [
    (
        "Автоклав показывает ошибку E-104",
        "E-104 означает, что камера не набрала давление вовремя. Проверьте уплотнитель двери и удалите накипь "
        "в парогенераторе. Если ошибка повторяется, вызовите инженера.",
    ),
]


async def load_field_demo(runtime: Runtime, users: dict[str, User], ticket_ids: list[int]) -> None:
    """Articles, skills, a technician, an asset and two work orders (idempotence is the caller's business)."""
    admin = users["admin@demo.helpdesk"]
    staff = Principal(user_id=admin.id, role=admin.role, name=admin.name)  # type: ignore[arg-type]
    articles = ArticleService(runtime)
    first = None
    for title, body in ARTICLES:
        created = await articles.create(staff, ArticleCreate(title=title, body=body, status="published"))
        first = first or created
    for title, body in ARTICLES_RU:
        await articles.create(
            staff,
            ArticleCreate(
                title=title,
                body=body,
                language="ru",
                status="published",
                translation_of=first.id if first else None,
            ),
        )

    skills = SkillService(runtime)
    for name in ("autoclaves", "dental-chairs", "imaging"):
        await skills.create_skill(SkillCreate(name=name))
    tom = users["tom@demo.helpdesk"]
    week = {day: ["08:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
    port = HelpdeskTickets(runtime)
    await TechnicianService(runtime, port).create_technician(
        TechnicianCreate(
            user_id=tom.id,
            skills={"autoclaves": 3, "dental-chairs": 2, "imaging": 1},
            home_address="Alexanderplatz 1, Berlin",
            home_lat=52.5219,
            home_lon=13.4132,
            hours=msgspec.convert({"timezone": "Europe/Berlin", "week": week}, CalendarSpec),
            lunch_window="12:00-13:30",
            lunch_minutes=30,
        )
    )
    today = runtime.clock.now().date()
    asset = await AssetService(runtime).create_asset(
        AssetCreate(
            serial_number="AC-2024-0042",
            product="Autoclave",
            model="SteriMax 23",
            site_address="Friedrichstraße 120, Berlin",
            lat=52.5246,
            lon=13.3882,
            installed_on=today - timedelta(days=400),
            warranty_until=today + timedelta(days=330),
            warranty_terms="Parts and labour, 24 months",
        )
    )
    orders = WorkOrderService(runtime)
    if len(ticket_ids) >= 2:
        await orders.create_from_ticket(
            staff,
            WorkOrderCreate(
                ticket_id=ticket_ids[1],
                asset_id=asset.id,
                required_skills={"autoclaves": 2},
                duration_minutes=60,
                required_parts=["door seal"],
            ),
            port,
        )
        await orders.create_from_ticket(
            staff,
            msgspec.convert(
                {
                    "ticket_id": ticket_ids[0],
                    "location": {"address": "Karl-Marx-Allee 90, Berlin", "lat": 52.5175, "lon": 13.4400},
                    "required_skills": {"imaging": 1},
                    "duration_minutes": 45,
                },
                WorkOrderCreate,
            ),
            port,
        )
