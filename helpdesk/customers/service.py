"""Organisations and customers: CRUD, and find-or-create for every channel that meets a new sender."""

from __future__ import annotations

from datetime import datetime

import msgspec
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.core.db import transaction
from helpdesk.core.errors import Conflict, InvalidInput, NotFound
from helpdesk.core.zones import check_time_zone
from helpdesk.customers.models import Customer, Organisation
from helpdesk.customers.schemas import CustomerCreate, CustomerUpdate, OrganisationCreate, OrganisationUpdate
from helpdesk.runtime import Runtime


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def find_or_create_customer(
    session: AsyncSession, now: datetime, *, email: str, name: str | None = None
) -> Customer:
    """The customer with this address, created (and matched to an organisation by domain) if new.

    Runs inside the caller's transaction; a concurrent insert of the same address is resolved by re-reading.
    """
    address = normalise_email(email)
    customer = await session.scalar(select(Customer).where(Customer.email == address))
    if customer is not None:
        if name and not customer.name:
            customer.name = name.strip()[:200]
        return customer
    domain = address.rpartition("@")[2]
    organisation_id = await session.scalar(
        select(Organisation.id).where(func.lower(Organisation.domain) == domain)
    )
    customer = Customer(
        email=address, name=(name or "").strip()[:200], organisation_id=organisation_id, created_at=now
    )
    try:
        async with session.begin_nested():
            session.add(customer)
    except IntegrityError:
        existing = await session.scalar(select(Customer).where(Customer.email == address))
        assert existing is not None
        return existing
    return customer


async def find_or_create_customers(
    session: AsyncSession, now: datetime, senders: dict[str, str | None]
) -> dict[str, Customer]:
    """:func:`find_or_create_customer` for many addresses (address → name) in three statements; the
    result is keyed by the normalised address. Runs inside the caller's transaction; a concurrent insert
    falls back to one address at a time."""
    wanted: dict[str, str | None] = {}
    for email, name in senders.items():
        address = normalise_email(email)
        wanted[address] = wanted.get(address) or name
    found = {c.email: c for c in await session.scalars(select(Customer).where(Customer.email.in_(wanted)))}
    for address, customer in found.items():
        name = wanted[address]
        if name and not customer.name:
            customer.name = name.strip()[:200]
    missing = [address for address in wanted if address not in found]
    if not missing:
        return found
    domain = func.lower(Organisation.domain)
    rows = await session.execute(
        select(domain, Organisation.id)
        .where(domain.in_({a.rpartition("@")[2] for a in missing}))
        .order_by(Organisation.id.desc())
    )
    organisations: dict[str, int] = {str(name): int(organisation_id) for name, organisation_id in rows}
    created = {
        address: Customer(
            email=address,
            name=(wanted[address] or "").strip()[:200],
            organisation_id=organisations.get(address.rpartition("@")[2]),
            created_at=now,
        )
        for address in missing
    }
    try:
        async with session.begin_nested():
            session.add_all(created.values())
    except IntegrityError:
        for address in missing:
            found[address] = await find_or_create_customer(session, now, email=address, name=wanted[address])
        return found
    return found | created


async def mark_bouncing(session: AsyncSession, now: datetime, email: str) -> Customer | None:
    """Record that mail to ``email`` bounced (keeps the first time); None when no customer has that address."""
    customer = await session.scalar(select(Customer).where(Customer.email == normalise_email(email)))
    if customer is not None and customer.bouncing_since is None:
        customer.bouncing_since = now
    return customer


def clear_bouncing(customer: Customer) -> None:
    """The customer wrote to us, so their address works again."""
    if customer.bouncing_since is not None:
        customer.bouncing_since = None


class CustomerService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def create_organisation(self, data: OrganisationCreate) -> Organisation:
        """Raises ``Conflict`` when the name is taken."""
        async with transaction(self.runtime.sessions) as session:
            organisation = Organisation(
                name=data.name.strip(),
                domain=data.domain.lower() if data.domain else None,
                shares_tickets=data.shares_tickets,
                created_at=self.runtime.clock.now(),
            )
            session.add(organisation)
            await _flush_unique(session, f"an organisation named {data.name!r} exists already", "name")
            return organisation

    async def update_organisation(self, organisation_id: int, data: OrganisationUpdate) -> Organisation:
        async with transaction(self.runtime.sessions) as session:
            organisation = await session.get(Organisation, organisation_id)
            if organisation is None:
                raise NotFound(f"organisation {organisation_id} not found")
            for field, value in _set_fields(data).items():
                setattr(
                    organisation,
                    field,
                    value.lower() if field == "domain" and isinstance(value, str) else value,
                )
            await _flush_unique(session, "an organisation with that name exists already", "name")
            return organisation

    async def create_customer(self, data: CustomerCreate) -> Customer:
        async with transaction(self.runtime.sessions) as session:
            if (
                data.organisation_id is not None
                and await session.get(Organisation, data.organisation_id) is None
            ):
                raise InvalidInput(
                    f"organisation {data.organisation_id} does not exist", field="organisation_id"
                )
            customer = Customer(
                email=normalise_email(data.email),
                name=data.name.strip(),
                phone=data.phone,
                organisation_id=data.organisation_id,
                language=data.language,
                created_at=self.runtime.clock.now(),
            )
            session.add(customer)
            await _flush_unique(session, f"a customer with e-mail {data.email} exists already", "email")
            return customer

    async def update_customer(self, customer_id: int, data: CustomerUpdate) -> Customer:
        """Change the fields ``data`` sets. Raises ``NotFound``, ``InvalidInput`` (an unknown organisation or
        time zone), ``Conflict`` (the e-mail belongs to another customer)."""
        if isinstance(data.time_zone, str):
            check_time_zone(data.time_zone)
        async with transaction(self.runtime.sessions) as session:
            customer = await session.get(Customer, customer_id)
            if customer is None:
                raise NotFound(f"customer {customer_id} not found")
            changes = _set_fields(data)
            if changes.get("organisation_id") is not None and (
                await session.get(Organisation, changes["organisation_id"]) is None
            ):
                raise InvalidInput(
                    f"organisation {changes['organisation_id']} does not exist", field="organisation_id"
                )
            if isinstance(changes.get("email"), str):
                changes["email"] = normalise_email(str(changes["email"]))
            for field, value in changes.items():
                setattr(customer, field, value)
            await _flush_unique(session, "a customer with that e-mail exists already", "email")
            return customer


def _set_fields(data: msgspec.Struct) -> dict[str, object]:
    """The fields a PATCH body actually sent."""
    return {
        field: value
        for field in data.__struct_fields__
        if (value := getattr(data, field)) is not msgspec.UNSET
    }


async def _flush_unique(session: AsyncSession, message: str, field: str) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(message, field=field) from exc
