from __future__ import annotations

from sqlalchemy import func, or_, select

from helpdesk.core.errors import NotFound
from helpdesk.customers.models import Customer, Organisation
from helpdesk.runtime import Runtime


class CustomerQueries:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def list_organisations(self, *, limit: int, offset: int) -> list[Organisation]:
        async with self.runtime.sessions() as session:
            query = select(Organisation).order_by(Organisation.name).limit(limit).offset(offset)
            return list((await session.scalars(query)).all())

    async def get_organisation(self, organisation_id: int) -> Organisation:
        async with self.runtime.sessions() as session:
            row = await session.get(Organisation, organisation_id)
            if row is None:
                raise NotFound(f"organisation {organisation_id} not found")
            return row

    async def list_customers(
        self, *, text: str | None, organisation_id: int | None, limit: int, offset: int
    ) -> list[Customer]:
        query = select(Customer)
        if organisation_id is not None:
            query = query.where(Customer.organisation_id == organisation_id)
        if text:
            pattern = f"%{text.strip().lower()}%"
            query = query.where(or_(Customer.email.like(pattern), func.lower(Customer.name).like(pattern)))
        async with self.runtime.sessions() as session:
            return list(
                (await session.scalars(query.order_by(Customer.email).limit(limit).offset(offset))).all()
            )

    async def get_customer(self, customer_id: int) -> Customer:
        async with self.runtime.sessions() as session:
            row = await session.get(Customer, customer_id)
            if row is None:
                raise NotFound(f"customer {customer_id} not found")
            return row
