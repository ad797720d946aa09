"""Organisations and customers under /api/v1: read for the desk, write for admins."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, patch, post
from litestar.params import JSONBody, QueryParameter

from helpdesk.accounts.dependencies import PrincipalDep, require_role
from helpdesk.accounts.models import Role
from helpdesk.core.params import Offset, PathId, QueryId, search_text
from helpdesk.customers.models import Customer, Organisation
from helpdesk.customers.queries import CustomerQueries
from helpdesk.customers.schemas import (
    CustomerCreate,
    CustomerRead,
    CustomerUpdate,
    OrganisationCreate,
    OrganisationRead,
    OrganisationUpdate,
)
from helpdesk.customers.service import CustomerService
from helpdesk.runtime import RuntimeDep

DESK = (Role.ADMIN, Role.MANAGER, Role.AGENT)


def organisation_read(row: Organisation) -> OrganisationRead:
    return OrganisationRead(
        id=row.id,
        name=row.name,
        domain=row.domain,
        shares_tickets=row.shares_tickets,
        created_at=row.created_at,
    )


def customer_read(row: Customer) -> CustomerRead:
    return CustomerRead(
        id=row.id,
        email=row.email,
        name=row.name,
        phone=row.phone,
        organisation_id=row.organisation_id,
        language=row.language,
        bouncing_since=row.bouncing_since,
        created_at=row.created_at,
        time_zone=row.time_zone,
    )


class OrganisationController(Controller):
    path = "/organisations"
    tags = ["customers"]

    @get("/")
    async def list_organisations(
        self,
        principal: PrincipalDep,
        runtime: RuntimeDep,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
        offset: Offset = 0,
    ) -> list[OrganisationRead]:
        require_role(principal, *DESK)
        rows = await CustomerQueries(runtime).list_organisations(limit=limit, offset=offset)
        return [organisation_read(r) for r in rows]

    @post("/")
    async def create_organisation(
        self, data: JSONBody[OrganisationCreate], principal: PrincipalDep, runtime: RuntimeDep
    ) -> OrganisationRead:
        require_role(principal, Role.ADMIN)
        return organisation_read(await CustomerService(runtime).create_organisation(data))

    @get("/{organisation_id:int}")
    async def get_organisation(
        self, organisation_id: PathId, principal: PrincipalDep, runtime: RuntimeDep
    ) -> OrganisationRead:
        require_role(principal, *DESK)
        return organisation_read(await CustomerQueries(runtime).get_organisation(organisation_id))

    @patch("/{organisation_id:int}")
    async def update_organisation(
        self,
        organisation_id: PathId,
        data: JSONBody[OrganisationUpdate],
        principal: PrincipalDep,
        runtime: RuntimeDep,
    ) -> OrganisationRead:
        require_role(principal, Role.ADMIN)
        return organisation_read(await CustomerService(runtime).update_organisation(organisation_id, data))


class CustomerController(Controller):
    path = "/customers"
    tags = ["customers"]

    @get("/")
    async def list_customers(
        self,
        principal: PrincipalDep,
        runtime: RuntimeDep,
        q: Annotated[str | None, search_text(200)] = None,
        organisation_id: QueryId = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
        offset: Offset = 0,
    ) -> list[CustomerRead]:
        require_role(principal, *DESK)
        rows = await CustomerQueries(runtime).list_customers(
            text=q, organisation_id=organisation_id, limit=limit, offset=offset
        )
        return [customer_read(r) for r in rows]

    @post("/")
    async def create_customer(
        self, data: JSONBody[CustomerCreate], principal: PrincipalDep, runtime: RuntimeDep
    ) -> CustomerRead:
        require_role(principal, *DESK)
        return customer_read(await CustomerService(runtime).create_customer(data))

    @get("/{customer_id:int}")
    async def get_customer(
        self, customer_id: PathId, principal: PrincipalDep, runtime: RuntimeDep
    ) -> CustomerRead:
        require_role(principal, *DESK)
        return customer_read(await CustomerQueries(runtime).get_customer(customer_id))

    @patch("/{customer_id:int}")
    async def update_customer(
        self,
        customer_id: PathId,
        data: JSONBody[CustomerUpdate],
        principal: PrincipalDep,
        runtime: RuntimeDep,
    ) -> CustomerRead:
        require_role(principal, Role.ADMIN)
        return customer_read(await CustomerService(runtime).update_customer(customer_id, data))
