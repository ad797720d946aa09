"""Canned responses: an agent keeps personal ones; managers and admins keep the shared ones."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.canned.models import CannedResponse
from helpdesk.canned.schemas import CannedCreate, CannedRead
from helpdesk.core.context import AppContext
from helpdesk.core.db import transaction
from helpdesk.core.errors import NotFound, PermissionDenied
from helpdesk.core.principal import STAFF_ROLES, Principal, Role, require_role

CURATORS = (Role.ADMIN, Role.MANAGER)


def _read(row: CannedResponse) -> CannedRead:
    return CannedRead(
        id=row.id,
        title=row.title,
        body=row.body,
        language=row.language,
        shared=row.owner_id is None,
        owner_id=row.owner_id,
        updated_at=row.updated_at,
    )


class CannedService:
    def __init__(self, context: AppContext) -> None:
        self.context = context

    async def list_responses(self, principal: Principal) -> list[CannedRead]:
        """The shared responses and the principal's own, by title."""
        require_role(principal, *STAFF_ROLES)
        query = (
            select(CannedResponse)
            .where(or_(CannedResponse.owner_id.is_(None), CannedResponse.owner_id == principal.user_id))
            .order_by(CannedResponse.title, CannedResponse.id)
            .limit(500)
        )
        async with self.context.sessions() as session:
            return [_read(r) for r in await session.scalars(query)]

    async def get_response(self, principal: Principal, canned_id: int) -> CannedRead:
        """Raises ``NotFound`` for another agent's personal response, as for a missing one."""
        require_role(principal, *STAFF_ROLES)
        async with self.context.sessions() as session:
            return _read(await self._visible(session, principal, canned_id))

    async def create_response(self, principal: Principal, data: CannedCreate) -> CannedRead:
        """A personal response, or a shared one (managers and admins; ``PermissionDenied`` on ``shared``)."""
        require_role(principal, *STAFF_ROLES)
        self._check_curator(principal, data.shared)
        now = self.context.clock.now()
        row = CannedResponse(
            title=data.title.strip(),
            body=data.body,
            language=data.language,
            owner_id=None if data.shared else principal.user_id,
            created_at=now,
            updated_at=now,
        )
        async with transaction(self.context.sessions) as session:
            session.add(row)
            await session.flush()
        return _read(row)

    async def update_response(self, principal: Principal, canned_id: int, data: CannedCreate) -> CannedRead:
        """Rewrite a response the principal may edit (their own; shared ones for curators)."""
        require_role(principal, *STAFF_ROLES)
        async with transaction(self.context.sessions) as session:
            row = await self._visible(session, principal, canned_id)
            self._check_curator(principal, row.owner_id is None or data.shared)
            row.title, row.body, row.language = data.title.strip(), data.body, data.language
            row.owner_id = None if data.shared else principal.user_id
            row.updated_at = self.context.clock.now()
            return _read(row)

    async def delete_response(self, principal: Principal, canned_id: int) -> None:
        require_role(principal, *STAFF_ROLES)
        async with transaction(self.context.sessions) as session:
            row = await self._visible(session, principal, canned_id)
            self._check_curator(principal, row.owner_id is None)
            await session.delete(row)

    @staticmethod
    def _check_curator(principal: Principal, shared: bool) -> None:
        if shared and principal.role not in CURATORS:
            raise PermissionDenied("only managers and admins keep shared responses", field="shared")

    @staticmethod
    async def _visible(session: AsyncSession, principal: Principal, canned_id: int) -> CannedResponse:
        row = await session.get(CannedResponse, canned_id)
        if row is None or (row.owner_id is not None and row.owner_id != principal.user_id):
            raise NotFound(f"canned response {canned_id} not found")
        return row
