"""Attachments: size limits per file and per ticket, content-addressed storage, permission-checked reads."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.accounts.principal import Principal
from helpdesk.core.db import transaction
from helpdesk.core.errors import InvalidInput, NotFound, TooLarge
from helpdesk.runtime import Runtime
from helpdesk.tickets import audit, policy
from helpdesk.tickets.conversation import MessageHook
from helpdesk.tickets.models import Attachment, Message, Ticket
from helpdesk.tickets.rules import MessageKind

_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]+")
_CONTENT_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+$")


def safe_filename(name: str) -> str:
    """A file name that is safe in a path and a Content-Disposition header; never empty."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip(" .")
    return name[:200] or "attachment"


def clean_content_type(content_type: str | None) -> str:
    """The bare, lower-case media type of a file, or ``application/octet-stream`` when it is missing or odd."""
    cleaned = (content_type or "application/octet-stream").split(";")[0].strip().lower()
    return cleaned if _CONTENT_TYPE.match(cleaned) else "application/octet-stream"


class AttachmentService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def attach(
        self,
        principal: Principal,
        ticket_id: int,
        *,
        filename: str,
        content_type: str | None,
        data: bytes,
        message_id: int | None = None,
    ) -> Attachment:
        """Store a file on a ticket the principal may see. Raises ``TooLarge`` past the per-file or
        per-ticket limit, ``InvalidInput`` for an empty file, ``NotFound``."""
        async with transaction(self.runtime.sessions) as session:
            ticket = policy.ensure_view(principal, await session.get(Ticket, ticket_id), ticket_id)
            if principal.is_staff:
                policy.ensure_can_work(principal)
            return await self._store(session, principal, ticket, filename, content_type, data, message_id)

    async def attach_in(
        self,
        session: AsyncSession,
        actor: Principal,
        ticket: Ticket,
        *,
        filename: str,
        content_type: str | None,
        data: bytes,
        message_id: int | None,
        content_id: str | None = None,
    ) -> Attachment:
        """Store a file in the caller's transaction (a channel storing what came with a message).
        ``content_id`` keeps an inline image addressable from the message's HTML (``cid:``). Raises
        ``TooLarge`` and ``InvalidInput`` before writing anything."""
        return await self._store(
            session, actor, ticket, filename, content_type, data, message_id, content_id=content_id
        )

    def with_message(self, files: Sequence[tuple[str, str | None, bytes]]) -> MessageHook:
        """A hook for ``TicketService.open``: store ``files`` (name, type, bytes) on the new ticket's first
        message in the same transaction, so a file over a limit leaves no ticket behind either."""

        async def store(session: AsyncSession, ticket: Ticket, message: Message) -> None:
            sender = Principal(customer_id=ticket.customer_id, name="customer")
            for filename, content_type, data in files:
                await self._store(session, sender, ticket, filename, content_type, data, message.id)

        return store

    async def _store(
        self,
        session: AsyncSession,
        actor: Principal,
        ticket: Ticket,
        filename: str,
        content_type: str | None,
        data: bytes,
        message_id: int | None,
        *,
        content_id: str | None = None,
    ) -> Attachment:
        settings = self.runtime.settings
        if len(data) > settings.max_attachment_bytes:
            raise TooLarge(
                f"{safe_filename(filename)}: {len(data)} bytes is over the limit of "
                f"{settings.max_attachment_bytes} bytes per file",
                field="file",
            )
        if not data:
            raise InvalidInput(f"{safe_filename(filename)} is empty", field="file")
        content_type = clean_content_type(content_type)
        now = self.runtime.clock.now()
        used = await session.scalar(
            select(func.coalesce(func.sum(Attachment.size), 0)).where(Attachment.ticket_id == ticket.id)
        )
        if int(used or 0) + len(data) > settings.max_ticket_attachment_bytes:
            raise TooLarge(
                f"{ticket.reference} would hold more than {settings.max_ticket_attachment_bytes} bytes of files",
                field="file",
            )
        if message_id is not None:
            message = await session.get(Message, message_id)
            if message is None or message.ticket_id != ticket.id:
                raise InvalidInput(f"message {message_id} is not on {ticket.reference}", field="message_id")
        digest = hashlib.sha256(data).hexdigest()
        await self.runtime.storage.put(session, digest, data)
        attachment = Attachment(
            ticket_id=ticket.id,
            message_id=message_id,
            filename=safe_filename(filename),
            content_type=content_type,
            size=len(data),
            sha256=digest,
            content_id=content_id[:255] if content_id else None,
            storage=self.runtime.storage.name,
            created_at=now,
        )
        session.add(attachment)
        await session.flush()
        audit.record(
            session,
            now,
            actor,
            ticket_id=ticket.id,
            field="attachment",
            old=None,
            new=attachment.filename,
            entity="attachment",
            entity_id=attachment.id,
        )
        ticket.updated_at = now
        return attachment

    async def download(self, principal: Principal, attachment_id: int) -> tuple[Attachment, bytes]:
        """An attachment the principal may see, with its bytes. Raises ``NotFound``."""
        async with self.runtime.sessions() as session:
            attachment = await session.get(Attachment, attachment_id)
            if attachment is None:
                raise NotFound(f"attachment {attachment_id} not found")
            policy.ensure_view(
                principal, await session.get(Ticket, attachment.ticket_id), attachment.ticket_id
            )
            if not principal.is_staff and attachment.message_id is not None:
                message = await session.get(Message, attachment.message_id)
                if message is not None and message.kind == MessageKind.INTERNAL_NOTE:
                    raise NotFound(f"attachment {attachment_id} not found")
            return attachment, await self._bytes(session, attachment)

    async def download_tracked(self, token: str, attachment_id: int) -> tuple[Attachment, bytes]:
        """An attachment shown on a tracking page: it must belong to that ticket and not to an internal note."""
        async with self.runtime.sessions() as session:
            attachment = await session.get(Attachment, attachment_id)
            ticket = await session.scalar(select(Ticket).where(Ticket.tracking_token == token))
            if attachment is None or ticket is None or attachment.ticket_id != ticket.id:
                raise NotFound(f"attachment {attachment_id} not found")
            if attachment.message_id is not None:
                message = await session.get(Message, attachment.message_id)
                if message is not None and message.kind == MessageKind.INTERNAL_NOTE:
                    raise NotFound(f"attachment {attachment_id} not found")
            return attachment, await self._bytes(session, attachment)

    async def _bytes(self, session: AsyncSession, attachment: Attachment) -> bytes:
        data = await self.runtime.storage.get(session, attachment.sha256)
        if data is None:
            raise NotFound(f"the file of attachment {attachment.id} is missing from storage")
        return data
