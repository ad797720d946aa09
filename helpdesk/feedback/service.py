"""Rating a resolved request: one click from the tracking page or the customer's session."""

from __future__ import annotations

from datetime import datetime

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.core.db import transaction
from helpdesk.core.errors import InvalidInput, InvalidTransition, NotFound
from helpdesk.core.principal import Principal
from helpdesk.feedback.models import SatisfactionRating
from helpdesk.runtime import Runtime
from helpdesk.tickets import audit
from helpdesk.tickets.models import Ticket
from helpdesk.tickets.rules import TicketStatus

SCORES = (1, 2, 3, 4, 5)
RATEABLE = (TicketStatus.RESOLVED, TicketStatus.CLOSED)


class RatingRead(msgspec.Struct, kw_only=True):
    ticket_id: int
    score: int
    comment: str
    updated_at: datetime


class SatisfactionSummary(msgspec.Struct, kw_only=True):
    count: int
    average: float | None
    by_score: dict[int, int]


class FeedbackService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def rate_by_tracking(self, token: str, score: int, comment: str = "") -> RatingRead:
        """Rate the ticket behind a tracking link (knowing the link is the customer's permission).
        Raises ``NotFound``, ``InvalidInput`` (score outside 1–5), ``InvalidTransition`` (not resolved yet)."""
        async with transaction(self.runtime.sessions) as session:
            ticket = await session.scalar(select(Ticket).where(Ticket.tracking_token == token))
            if ticket is None or len(token) < 20:
                raise NotFound("no request with this tracking link")
            actor = Principal(customer_id=ticket.customer_id, name="customer (tracking link)")
            return await self._rate(session, actor, ticket, score, comment)

    async def _rate(
        self, session: AsyncSession, actor: Principal, ticket: Ticket, score: int, comment: str
    ) -> RatingRead:
        if score not in SCORES:
            raise InvalidInput("score: choose 1 to 5", field="score")
        if ticket.status not in RATEABLE:
            raise InvalidTransition("a request can be rated once it is resolved", field="score")
        now = self.runtime.clock.now()
        row = await session.scalar(
            select(SatisfactionRating).where(SatisfactionRating.ticket_id == ticket.id)
        )
        old = row.score if row is not None else None
        if row is None:
            row = SatisfactionRating(
                ticket_id=ticket.id,
                customer_id=ticket.customer_id,
                score=score,
                comment=comment[:1000],
                created_at=now,
                updated_at=now,
            )
            session.add(row)
        else:
            row.score, row.updated_at = score, now
            if comment:
                row.comment = comment[:1000]
        if old != score:
            audit.record(session, now, actor, ticket_id=ticket.id, field="satisfaction", old=old, new=score)
        await session.flush()
        return RatingRead(
            ticket_id=ticket.id, score=row.score, comment=row.comment, updated_at=row.updated_at
        )

    async def rating_for(self, ticket_id: int) -> RatingRead | None:
        async with self.runtime.sessions() as session:
            row = await session.scalar(
                select(SatisfactionRating).where(SatisfactionRating.ticket_id == ticket_id)
            )
        if row is None:
            return None
        return RatingRead(
            ticket_id=row.ticket_id, score=row.score, comment=row.comment, updated_at=row.updated_at
        )

    async def summary(
        self,
        *,
        since: datetime,
        until: datetime,
        queue_id: int | None = None,
        organisation_id: int | None = None,
    ) -> SatisfactionSummary:
        """Ratings given in the period, per score (for the managers' dashboard)."""
        query = (
            select(SatisfactionRating.score, func.count())
            .join(Ticket, Ticket.id == SatisfactionRating.ticket_id)
            .where(SatisfactionRating.updated_at >= since, SatisfactionRating.updated_at < until)
            .group_by(SatisfactionRating.score)
        )
        if queue_id is not None:
            query = query.where(Ticket.queue_id == queue_id)
        if organisation_id is not None:
            query = query.where(Ticket.organisation_id == organisation_id)
        async with self.runtime.sessions() as session:
            counts = {int(score): int(n) for score, n in await session.execute(query)}
        total = sum(counts.values())
        average = sum(s * n for s, n in counts.items()) / total if total else None
        return SatisfactionSummary(
            count=total, average=average, by_score={s: counts.get(s, 0) for s in SCORES}
        )
