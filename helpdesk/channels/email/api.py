"""Inbound mail over HTTP, for webhook-style mail providers: the raw RFC 822 message is the request body."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, QueryParameter

from helpdesk.accounts.dependencies import PrincipalDep, require_role
from helpdesk.accounts.models import Role
from helpdesk.channels.email.flagged import MAX_PER_PAGE, FlaggedMailService
from helpdesk.channels.email.models import InboundMail, InboundSource
from helpdesk.channels.email.schemas import FlaggedMailPage, InboundStatusChange
from helpdesk.channels.email.service import MailService
from helpdesk.core.errors import InvalidInput, NotFound, TooLarge
from helpdesk.core.params import PathId
from helpdesk.runtime import RuntimeDep


class InboundStored(msgspec.Struct, kw_only=True):
    id: int
    created: bool


class InboundRead(msgspec.Struct, kw_only=True):
    id: int
    message_id: str | None
    source: str
    received_at: datetime
    status: str
    outcome: str | None
    flag_reason: str | None
    attempts: int
    ticket_id: int | None
    ticket_message_id: int | None


class InboundMailController(Controller):
    path = "/mail/inbound"
    tags = ["mail"]

    @post("/", summary="Store a raw inbound message (webhook delivery)", status_code=201)
    async def receive(
        self, request: Request[Any, Any, Any], principal: PrincipalDep, runtime: RuntimeDep
    ) -> Response[InboundStored]:
        """The body is the raw message (`Content-Type: message/rfc822`); admins' API tokens only.
        201 when stored, 200 when the same mail was stored before (same id), 413 over the size limit."""
        require_role(principal, Role.ADMIN)
        limit = runtime.settings.max_inbound_mail_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise TooLarge(f"the message is {declared} bytes; the limit is {limit} bytes", field="body")
        raw = await request.body()
        if not raw.strip():
            raise InvalidInput("the body must be a raw RFC 822 message", field="body")
        stored = await MailService(runtime).store(raw, InboundSource.HTTP, mailbox="http")
        return Response(
            InboundStored(id=stored.id, created=stored.created), status_code=201 if stored.created else 200
        )

    @get("/{inbound_id:int}", summary="What became of an inbound message")
    async def read(
        self, inbound_id: FromPath[int], principal: PrincipalDep, runtime: RuntimeDep
    ) -> InboundRead:
        require_role(principal, Role.ADMIN, Role.MANAGER, Role.AGENT)
        async with runtime.sessions() as session:
            row = await session.get(InboundMail, inbound_id)
        if row is None:
            raise NotFound(f"inbound mail {inbound_id} not found")
        return InboundRead(
            id=row.id,
            message_id=row.message_id,
            source=row.source,
            received_at=row.received_at,
            status=row.status,
            outcome=row.outcome,
            flag_reason=row.flag_reason,
            attempts=row.attempts,
            ticket_id=row.ticket_id,
            ticket_message_id=row.ticket_message_id,
        )

    @get("/flagged", summary="Inbound mail waiting for a person (flagged or failed), newest first")
    async def list_flagged(
        self,
        principal: PrincipalDep,
        runtime: RuntimeDep,
        page: Annotated[int, QueryParameter(ge=1, le=1_000_000)] = 1,
        per_page: Annotated[int, QueryParameter(ge=1, le=MAX_PER_PAGE)] = 25,
    ) -> FlaggedMailPage:
        """Agents, managers and admins. Each item names the sender and subject (decoded from the raw headers) and
        the reason it became no ticket; ``total`` counts them all."""
        return await FlaggedMailService(runtime).list_flagged(principal, page=page, per_page=per_page)

    @get("/{inbound_id:int}/raw", summary="The raw message exactly as it arrived (message/rfc822)")
    async def raw(self, inbound_id: PathId, principal: PrincipalDep, runtime: RuntimeDep) -> Response[bytes]:
        """Agents, managers and admins; downloaded as ``inbound-<id>.eml``."""
        raw = await FlaggedMailService(runtime).raw_message(principal, inbound_id)
        return Response(
            raw,
            media_type="message/rfc822",
            headers={"Content-Disposition": f'attachment; filename="inbound-{inbound_id}.eml"'},
        )

    @post(
        "/{inbound_id:int}/process-again", summary="Process a flagged or failed mail again", status_code=200
    )
    async def process_again(
        self, inbound_id: PathId, principal: PrincipalDep, runtime: RuntimeDep
    ) -> InboundStatusChange:
        """Back to pending with fresh attempts, its processing queued; audited. 409 unless the mail is
        flagged or failed."""
        return await FlaggedMailService(runtime).process_again(principal, inbound_id)

    @post("/{inbound_id:int}/dismiss", summary="Set a flagged or failed mail aside", status_code=200)
    async def dismiss(
        self, inbound_id: PathId, principal: PrincipalDep, runtime: RuntimeDep
    ) -> InboundStatusChange:
        """It stays stored and leaves the flagged list; audited. 409 unless the mail is flagged or failed."""
        return await FlaggedMailService(runtime).dismiss(principal, inbound_id)
