"""Saved queue views: per user, a name and the queue's filter query string (only known filter keys kept)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import msgspec
from sqlalchemy import delete, select

from helpdesk.core.db import transaction
from helpdesk.core.errors import InvalidInput
from helpdesk.core.principal import Principal
from helpdesk.runtime import Runtime
from helpdesk.web.models import SavedView

FILTER_KEYS = ("view", "status", "priority", "queue_id", "customer_id", "organisation_id", "tag", "q")
MAX_VIEWS = 30


class SavedViewRead(msgspec.Struct, kw_only=True):
    id: int
    name: str
    query: str


def clean_query(query: str) -> str:
    """The filter part of a queue query string, in a stable order (page numbers and unknown keys dropped)."""
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=False) if k in FILTER_KEYS and v]
    return urlencode(sorted(pairs, key=lambda kv: FILTER_KEYS.index(kv[0])))[:1000]


class SavedViewService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def list_views(self, principal: Principal) -> list[SavedViewRead]:
        if principal.user_id is None:
            return []
        async with self.runtime.sessions() as session:
            rows = await session.scalars(
                select(SavedView).where(SavedView.user_id == principal.user_id).order_by(SavedView.name)
            )
            return [SavedViewRead(id=r.id, name=r.name, query=r.query) for r in rows]

    async def save_view(self, principal: Principal, name: str, query: str) -> SavedViewRead:
        """Create the view, or replace the filters of the user's view of that name. Raises ``InvalidInput``."""
        name = " ".join(name.split())[:100]
        if principal.user_id is None:
            raise InvalidInput("only staff save views", field="name")
        if not name:
            raise InvalidInput("name: give the view a name", field="name")
        cleaned = clean_query(query)
        async with transaction(self.runtime.sessions) as session:
            row = await session.scalar(
                select(SavedView).where(SavedView.user_id == principal.user_id, SavedView.name == name)
            )
            if row is None:
                count = len(
                    (
                        await session.scalars(
                            select(SavedView.id).where(SavedView.user_id == principal.user_id)
                        )
                    ).all()
                )
                if count >= MAX_VIEWS:
                    raise InvalidInput(f"name: at most {MAX_VIEWS} saved views", field="name")
                row = SavedView(
                    user_id=principal.user_id, name=name, query=cleaned, created_at=self.runtime.clock.now()
                )
                session.add(row)
            else:
                row.query = cleaned
            await session.flush()
            return SavedViewRead(id=row.id, name=row.name, query=row.query)

    async def delete_view(self, principal: Principal, view_id: int) -> None:
        async with transaction(self.runtime.sessions) as session:
            await session.execute(
                delete(SavedView).where(SavedView.id == view_id, SavedView.user_id == principal.user_id)
            )
