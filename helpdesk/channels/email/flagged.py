"""Inbound mail a person has to look at: flagged (stored, deliberately not made a ticket) or failed (every
processing attempt failed).

The desk (agents, managers, admins: as for tickets, a manager may do what an agent does) lists it newest
first, downloads the raw message, processes it again (back to pending, its job queued through the outbox) or
dismisses it (set aside, still stored). Both actions are audited and only
apply to mail still flagged or failed, so two people clicking at once change it once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from email.parser import BytesHeaderParser
from email.policy import compat32

from sqlalchemy import func, select, update

from helpdesk.channels.email.headers import decode_header
from helpdesk.channels.email.models import InboundMail, InboundStatus
from helpdesk.channels.email.schemas import FlaggedMailPage, FlaggedMailRead, InboundStatusChange
from helpdesk.channels.email.service import PROCESS_JOB
from helpdesk.core.db import transaction
from helpdesk.core.errors import Conflict, NotFound
from helpdesk.core.outbox import add_outbox_job
from helpdesk.core.principal import Principal, Role, require_role
from helpdesk.runtime import Runtime
from helpdesk.tickets import audit

REVIEW_STATUSES = (InboundStatus.FLAGGED.value, InboundStatus.FAILED.value)
# Who may review inbound mail: the desk. Managers watch service quality (mail that became no ticket is part
# of it) and, as everywhere on the desk, may act where an agent may.
REVIEW_ROLES = (Role.AGENT, Role.MANAGER, Role.ADMIN)
# The header block is read from the first bytes only: a list never loads whole 50 MB messages.
HEAD_BYTES = 32 * 1024
MAX_PER_PAGE = 100
AUDIT_ENTITY = "inbound_mail"
# How long the navigation's count may be reused (it is asked on every console page; it lags new flags
# by at most this long, and this process's own actions refresh it at once).
COUNT_MAX_AGE = timedelta(seconds=30)
_COUNT_CACHE = "flagged_mail_count"


def require_reviewer(principal: Principal) -> None:
    """Raise ``NotAuthenticated`` for nobody and ``PermissionDenied`` unless an agent, a manager or an admin."""
    require_role(principal, *REVIEW_ROLES)


def summarise_head(raw: bytes, fallback_charsets: Sequence[str]) -> tuple[str, str]:
    """The decoded From and Subject of a raw message's header block (``""`` when absent or unreadable)."""
    head = raw[:HEAD_BYTES]
    end = min((i for i in (head.find(b"\r\n\r\n"), head.find(b"\n\n")) if i >= 0), default=len(head))
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(head[: end + 2])
        sender, subject = headers.get("From"), headers.get("Subject")
    except Exception:  # header garbage: show what is known, never fail the list
        return "", ""
    return (
        decode_header(str(sender), fallback_charsets)[:320] if sender is not None else "",
        decode_header(str(subject), fallback_charsets)[:400] if subject is not None else "",
    )


class FlaggedMailService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        charsets = runtime.settings.mail_fallback_charsets.split(",")
        self.charsets = [c.strip() for c in charsets if c.strip()]

    async def count(self) -> int:
        """How many inbound mails wait for a person."""
        async with self.runtime.sessions() as session:
            total = await session.scalar(
                select(func.count()).select_from(InboundMail).where(InboundMail.status.in_(REVIEW_STATUSES))
            )
        return int(total or 0)

    async def recent_count(self) -> int:
        """:meth:`count`, reused for up to ``COUNT_MAX_AGE`` (by the runtime's clock) within this process."""
        now = self.runtime.clock.now()
        cached: tuple[int, datetime] | None = self.runtime.extras.get(_COUNT_CACHE)
        if cached is not None and timedelta(0) <= now - cached[1] < COUNT_MAX_AGE:
            return cached[0]
        total = await self.count()
        self.runtime.extras[_COUNT_CACHE] = (total, now)
        return total

    async def list_flagged(
        self, principal: Principal, *, page: int = 1, per_page: int = 25
    ) -> FlaggedMailPage:
        """One page of flagged and failed mail, newest first. Raises ``NotAuthenticated``, ``PermissionDenied``."""
        require_reviewer(principal)
        page, per_page = max(1, page), min(max(1, per_page), MAX_PER_PAGE)
        head = func.substr(InboundMail.raw, 1, HEAD_BYTES)
        async with self.runtime.sessions() as session:
            total = await session.scalar(
                select(func.count()).select_from(InboundMail).where(InboundMail.status.in_(REVIEW_STATUSES))
            )
            rows = await session.execute(
                select(
                    InboundMail.id, InboundMail.received_at, InboundMail.status, InboundMail.flag_reason,
                    InboundMail.source, InboundMail.size, InboundMail.attempts, head,
                )
                .where(InboundMail.status.in_(REVIEW_STATUSES))
                .order_by(InboundMail.received_at.desc(), InboundMail.id.desc())
                .offset((page - 1) * per_page)
                .limit(per_page)
            )  # fmt: skip
            items = [
                self._read(inbound_id, received_at, status, reason, source, size, attempts, bytes(raw or b""))
                for inbound_id, received_at, status, reason, source, size, attempts, raw in rows
            ]
        total = int(total or 0)
        return FlaggedMailPage(
            items=items, page=page, per_page=per_page, total=total, has_next=page * per_page < total
        )

    def _read(
        self, inbound_id: int, received_at: datetime, status: str, reason: str | None, source: str,
        size: int, attempts: int, head: bytes,
    ) -> FlaggedMailRead:  # fmt: skip
        sender, subject = summarise_head(head, self.charsets)
        return FlaggedMailRead(
            id=inbound_id,
            received_at=received_at,
            status=status,
            sender=sender,
            subject=subject,
            reason=reason or "",
            source=source,
            size=size,
            attempts=attempts,
        )

    async def raw_message(self, principal: Principal, inbound_id: int) -> bytes:
        """The message exactly as it arrived. Raises ``NotFound``, ``PermissionDenied``."""
        require_reviewer(principal)
        async with self.runtime.sessions() as session:
            raw = await session.scalar(select(InboundMail.raw).where(InboundMail.id == inbound_id))
        if raw is None:
            raise NotFound(f"inbound mail {inbound_id} not found")
        return bytes(raw)

    async def process_again(self, principal: Principal, inbound_id: int) -> InboundStatusChange:
        """Put a flagged or failed mail back to pending with fresh attempts and queue its processing (after
        commit, through the outbox). Audited. Raises ``NotFound``, ``Conflict`` (not flagged or failed any
        more), ``PermissionDenied``."""
        return await self._change(principal, inbound_id, InboundStatus.PENDING)

    async def dismiss(self, principal: Principal, inbound_id: int) -> InboundStatusChange:
        """Set a flagged or failed mail aside: it stays stored and leaves the list. Audited. Raises
        ``NotFound``, ``Conflict``, ``PermissionDenied``."""
        return await self._change(principal, inbound_id, InboundStatus.DISMISSED)

    async def _change(
        self, principal: Principal, inbound_id: int, target: InboundStatus
    ) -> InboundStatusChange:
        require_reviewer(principal)
        now = self.runtime.clock.now()
        async with transaction(self.runtime.sessions) as session:
            # No FOR UPDATE: a worker claims pending mail with SKIP LOCKED, and a lock taken here only to
            # refuse would make it skip a mail just put back to pending. The UPDATE below re-checks.
            found = (
                await session.execute(
                    select(InboundMail.status, InboundMail.flag_reason).where(InboundMail.id == inbound_id)
                )
            ).first()
            if found is None:
                raise NotFound(f"inbound mail {inbound_id} not found")
            status, reason = found
            values: dict[str, object] = {"status": target.value}
            if target == InboundStatus.PENDING:
                values.update(attempts=0, flag_reason=None, processed_at=None)
            changed = await session.execute(
                update(InboundMail)
                .where(InboundMail.id == inbound_id, InboundMail.status == status)
                .where(InboundMail.status.in_(REVIEW_STATUSES))
                .values(**values)
            )
            if changed.rowcount != 1:  # type: ignore[attr-defined]
                raise Conflict(
                    f"inbound mail {inbound_id} is not flagged or failed (any more); nothing changed",
                    code="inbound_not_flagged",
                )
            audit.record_entity(
                session, now, principal, entity=AUDIT_ENTITY, entity_id=inbound_id,
                field="status", old=status, new=target.value,
            )  # fmt: skip
            if target == InboundStatus.PENDING:
                # The reason goes from the row; the trail keeps it.
                audit.record_entity(
                    session, now, principal, entity=AUDIT_ENTITY, entity_id=inbound_id,
                    field="flag_reason", old=reason, new=None,
                )  # fmt: skip
                add_outbox_job(session, now, PROCESS_JOB, inbound_id)
        self.runtime.extras.pop(_COUNT_CACHE, None)
        if target == InboundStatus.PENDING:
            await self.runtime.after_commit()
        return InboundStatusChange(id=inbound_id, old_status=status, status=target.value)
