"""``helpdesk demo``: a demo organisation, staff of every role, customers and a few dozen realistic tickets."""

from __future__ import annotations

import random
import secrets
from datetime import timedelta

from sqlalchemy import select

from helpdesk.accounts.models import User
from helpdesk.accounts.principal import Principal
from helpdesk.accounts.schemas import GroupCreate
from helpdesk.accounts.security import hash_password
from helpdesk.accounts.service import AccountService
from helpdesk.accounts.staff import StaffService
from helpdesk.core.clock import FixedClock
from helpdesk.core.db import transaction
from helpdesk.core.settings import Settings
from helpdesk.customers.models import Organisation
from helpdesk.customers.schemas import CustomerCreate, OrganisationCreate
from helpdesk.customers.service import CustomerService
from helpdesk.demo_field import load_field_demo
from helpdesk.runtime import start_runtime, stop_runtime
from helpdesk.tickets.rules import Channel, Level, TicketStatus
from helpdesk.tickets.schemas import MessageCreate, TicketCreate, TicketUpdate
from helpdesk.tickets.service import TicketService

DEMO_ORGANISATION = "Northwind Dental Clinics"
STAFF = [
    ("admin", "Dana Admin", "admin@demo.helpdesk"),
    ("manager", "Mark Manager", "manager@demo.helpdesk"),
    ("agent", "Alice Agent", "alice@demo.helpdesk"),
    ("agent", "Boris Agent", "boris@demo.helpdesk"),
    ("technician", "Tom Technician", "tom@demo.helpdesk"),
]
CUSTOMERS = [
    ("Olga Ivanova", "olga@northwind-dental.example"),
    ("Peter Novak", "peter@northwind-dental.example"),
    ("Sara Lind", "sara@lind-lab.example"),
    ("Ivan Petrov", "ivan@petrov-clinic.example"),
]
PROBLEMS = [
    (
        "X-ray sensor not detected after Windows update",
        "The intraoral sensor shows 'device not found' since this morning.",
    ),
    ("Autoclave shows error E-104", "Cycle aborts after 5 minutes with E-104 on the display."),
    ("Dental chair hydraulic leak", "Oil under chair 3, the seat slowly goes down."),
    (
        "Compressor very loud",
        "The compressor in the basement is much louder than usual and trips the breaker.",
    ),
    ("Request for annual maintenance", "Please schedule the yearly maintenance of both chairs."),
    ("Invoice question for October", "The invoice lists a visit we do not remember."),
    ("Handpiece overheating", "The turbine handpiece gets hot after a minute of use."),
    ("Software licence expired", "Imaging software says the licence expired yesterday."),
    ("Suction unit weak", "Suction is weak on chair 2 since Monday."),
    ("Monitor on chair arm flickers", "The patient monitor flickers when the arm is moved."),
]


async def load_demo(settings: Settings) -> list[str]:
    """Create the demo data once; on later runs only reset the staff passwords. Returns "email / password" lines."""
    runtime = await start_runtime(settings, in_process_jobs=True)
    try:
        passwords = {email: secrets.token_urlsafe(9) for _, _, email in STAFF}
        async with runtime.sessions() as session:
            exists = await session.scalar(
                select(Organisation.id).where(Organisation.name == DEMO_ORGANISATION)
            )
        if exists is None:
            await _create(runtime, passwords)
        else:
            async with transaction(runtime.sessions) as session:
                for user in await session.scalars(select(User).where(User.email.in_(passwords))):
                    user.password_hash = hash_password(passwords[user.email])
        return [f"{email} / {passwords[email]}  ({role})" for role, _, email in STAFF]
    finally:
        await stop_runtime(runtime)


async def _create(runtime, passwords: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    accounts = AccountService(runtime)
    users = {}
    for role, name, email in STAFF:
        users[email] = await accounts.create_user(
            email=email, name=name, role=role, password=passwords[email]
        )
    agents = [u.id for u in users.values() if u.role == "agent"]
    staff_service = StaffService(runtime)
    support = await staff_service.create_group(GroupCreate(name="Support", member_ids=agents))
    await staff_service.create_group(
        GroupCreate(name="Field service", member_ids=[users["tom@demo.helpdesk"].id])
    )
    customers = CustomerService(runtime)
    organisation = await customers.create_organisation(
        OrganisationCreate(name=DEMO_ORGANISATION, domain="northwind-dental.example", shares_tickets=True)
    )
    for name, email in CUSTOMERS:
        org_id = organisation.id if email.endswith("northwind-dental.example") else None
        await customers.create_customer(CustomerCreate(email=email, name=name, organisation_id=org_id))

    # Tickets spread over the last two weeks, written as if at those times.
    rng = random.Random(7)  # noqa: S311 - demo data, not security
    real_clock = runtime.clock
    start = real_clock.now() - timedelta(days=14)
    tickets = TicketService(runtime)
    alice = users["alice@demo.helpdesk"]
    agent = Principal(user_id=alice.id, role=alice.role, name=alice.name)  # type: ignore[arg-type]
    ticket_ids: list[int] = []
    for index in range(36):
        runtime.clock = FixedClock(start + timedelta(hours=9 * index + rng.randint(0, 5)))
        subject, body = PROBLEMS[index % len(PROBLEMS)]
        name, email = CUSTOMERS[index % len(CUSTOMERS)]
        ticket = await tickets.open_ticket(
            agent,
            TicketCreate(
                subject=subject,
                description=body,
                customer_email=email,
                customer_name=name,
                impact=rng.choice(list(Level)),
                urgency=rng.choice(list(Level)),
                queue_id=support.id,
                channel=rng.choice(["web", "email", "phone"]),
            ),
            channel=Channel.WEB,
        )
        ticket_ids.append(ticket.id)
        if index % 3 == 0:
            continue
        runtime.clock = FixedClock(runtime.clock.now() + timedelta(hours=rng.randint(1, 6)))
        ticket, _ = await tickets.add_message(
            agent, ticket.id, MessageCreate(body="Thank you, we are looking into it. Could you send a photo?")
        )
        if index % 3 == 2 and index < 30:
            await tickets.update_ticket(
                agent,
                ticket.id,
                TicketUpdate(
                    version=ticket.version, status=TicketStatus.RESOLVED, assignee_id=agents[index % 2]
                ),
            )
    runtime.clock = real_clock
    # Open tickets that need a visit: the newest ones (older ones are resolved or answered).
    await load_field_demo(runtime, users, list(reversed(ticket_ids))[::3])
