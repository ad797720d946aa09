"""Ticket endpoints under /api/v1: parse, call the service, return a schema."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.datastructures import UploadFile
from litestar.params import FromQuery, JSONBody, MultipartBody, QueryParameter

from helpdesk.accounts.dependencies import PrincipalDep, client_key
from helpdesk.core.params import MAX_ID, Offset, PathId, PathToken, QueryId, search_text
from helpdesk.runtime import RuntimeDep
from helpdesk.tickets.attachments import AttachmentService
from helpdesk.tickets.models import Attachment
from helpdesk.tickets.queries import TicketQueries
from helpdesk.tickets.rules import Channel, Priority, TicketStatus, normalise_tags
from helpdesk.tickets.schemas import (
    AttachmentRead,
    MessageCreate,
    TicketCreate,
    TicketDetail,
    TicketFilters,
    TicketPage,
    TicketRead,
    TicketUpdate,
    TrackingView,
)
from helpdesk.tickets.service import TicketService
from helpdesk.tickets.views import ticket_read
from sla.schemas import TicketSlaRead


class MessageCreated(msgspec.Struct, kw_only=True):
    message_id: int
    ticket: TicketRead


class UploadForm(msgspec.Struct):
    file: UploadFile
    message_id: Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)] | None = None


def attachment_read(attachment: Attachment) -> AttachmentRead:
    return AttachmentRead(
        id=attachment.id,
        filename=attachment.filename,
        content_type=attachment.content_type,
        size=attachment.size,
        sha256=attachment.sha256,
        message_id=attachment.message_id,
        created_at=attachment.created_at,
        url=f"/api/v1/attachments/{attachment.id}",
    )


def file_response(attachment: Attachment, data: bytes) -> Response[bytes]:
    # Served as a download with a locked-down type, so an uploaded HTML or SVG file never runs as a page.
    return Response(
        content=data,
        media_type=attachment.content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(attachment.filename)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


class TicketController(Controller):
    path = "/tickets"
    tags = ["tickets"]

    @post("/", summary="Open a ticket")
    async def open_ticket(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[TicketCreate],
        principal: PrincipalDep,
        runtime: RuntimeDep,
    ) -> TicketRead:
        """Customers open for themselves; staff open on a customer's behalf (e.g. a phone call) by naming
        `customer_email` or `customer_id`; without a session, `customer_email` is required (rate limited)."""
        ticket = await TicketService(runtime).open_ticket(
            principal, data, channel=Channel.API, client=client_key(request)
        )
        # The ticket in hand is what was committed: no need to read it back.
        return ticket_read(ticket, sorted(normalise_tags(data.tags)), runtime.settings.base_url)

    @get("/", summary="List tickets, most urgent first")
    async def list_tickets(
        self,
        principal: PrincipalDep,
        runtime: RuntimeDep,
        queue_id: QueryId = None,
        status: FromQuery[list[TicketStatus] | None] = None,
        assignee_id: QueryId = None,
        unassigned: FromQuery[bool] = False,
        customer_id: QueryId = None,
        organisation_id: QueryId = None,
        priority: FromQuery[list[Priority] | None] = None,
        tag: Annotated[str | None, search_text(50)] = None,
        q: Annotated[str | None, search_text(200, "Text in the subject, or a reference")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        offset: Offset = 0,
    ) -> TicketPage:
        filters = TicketFilters(
            queue_id=queue_id,
            status=status,
            assignee_id=assignee_id,
            unassigned=unassigned,
            customer_id=customer_id,
            organisation_id=organisation_id,
            priority=priority,
            tag=tag,
            text=q,
        )
        return await TicketQueries(runtime).list_tickets(principal, filters, limit=limit, offset=offset)

    @get("/{ticket_id:int}", summary="A ticket with its conversation and audit trail")
    async def get_ticket(
        self, ticket_id: PathId, principal: PrincipalDep, runtime: RuntimeDep
    ) -> TicketDetail:
        return await TicketQueries(runtime).get_ticket(principal, ticket_id)

    @get("/{ticket_id:int}/sla", summary="SLA targets of a ticket: state, deadline, margin, pauses")
    async def get_sla(self, ticket_id: PathId, principal: PrincipalDep, runtime: RuntimeDep) -> TicketSlaRead:
        return await TicketQueries(runtime).get_sla(principal, ticket_id)

    @patch("/{ticket_id:int}", summary="Change status, priority, queue, assignee or tags")
    async def update_ticket(
        self,
        ticket_id: PathId,
        data: JSONBody[TicketUpdate],
        principal: PrincipalDep,
        runtime: RuntimeDep,
    ) -> TicketRead:
        """Send the `version` you read; if someone changed the ticket since, the answer is 409."""
        ticket = await TicketService(runtime).update_ticket(principal, ticket_id, data)
        return await TicketQueries(runtime).get_ticket_read(ticket.id)

    @post("/{ticket_id:int}/messages", summary="Reply, add an internal note, or (customers) write")
    async def add_message(
        self,
        ticket_id: PathId,
        data: JSONBody[MessageCreate],
        principal: PrincipalDep,
        runtime: RuntimeDep,
    ) -> MessageCreated:
        ticket, message = await TicketService(runtime).add_message(principal, ticket_id, data)
        return MessageCreated(
            message_id=message.id, ticket=await TicketQueries(runtime).get_ticket_read(ticket.id)
        )

    @post("/{ticket_id:int}/attachments", summary="Upload a file")
    async def upload(
        self,
        ticket_id: PathId,
        data: MultipartBody[UploadForm],
        principal: PrincipalDep,
        runtime: RuntimeDep,
    ) -> AttachmentRead:
        content = await data.file.read()
        attachment = await AttachmentService(runtime).attach(
            principal,
            ticket_id,
            filename=data.file.filename or "attachment",
            content_type=data.file.content_type,
            data=content,
            message_id=data.message_id,
        )
        return attachment_read(attachment)


@get("/attachments/{attachment_id:int}", tags=["tickets"], summary="Download an attachment")
async def download_attachment(
    attachment_id: PathId, principal: PrincipalDep, runtime: RuntimeDep
) -> Response[bytes]:
    attachment, data = await AttachmentService(runtime).download(principal, attachment_id)
    return file_response(attachment, data)


@get("/track/{token:str}", tags=["tickets"], summary="Public tracking view of one ticket")
async def track_ticket(token: PathToken, runtime: RuntimeDep) -> TrackingView:
    return await TicketQueries(runtime).track(token)


__all__ = ["TicketController", "download_attachment", "ticket_read", "track_ticket"]
