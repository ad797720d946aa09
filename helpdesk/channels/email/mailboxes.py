"""Administration of the IMAP mailboxes the worker fetches from (the web form's counterpart of
``helpdesk mail mailbox add``). The password is write-only: nothing here reads it back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from helpdesk.channels.email.imap import add_mailbox
from helpdesk.channels.email.models import Mailbox
from helpdesk.core.db import transaction
from helpdesk.core.errors import Conflict, NotFound
from helpdesk.runtime import Runtime

Host = Annotated[str, msgspec.Meta(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9.-]+$")]


class MailboxCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    host: Host
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 993
    security: Literal["tls", "starttls", "plain"] = "tls"
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=320)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    folder: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] = "INBOX"
    processed_folder: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class MailboxRead(msgspec.Struct, kw_only=True):
    id: int
    name: str
    host: str
    port: int
    security: str
    username: str
    folder: str
    processed_action: str
    processed_folder: str | None
    enabled: bool
    last_fetched_at: datetime | None
    last_error: str | None


def _read(row: Mailbox) -> MailboxRead:
    return MailboxRead(
        id=row.id,
        name=row.name,
        host=row.host,
        port=row.port,
        security=row.security,
        username=row.username,
        folder=row.folder,
        processed_action=row.processed_action,
        processed_folder=row.processed_folder,
        enabled=row.enabled,
        last_fetched_at=row.last_fetched_at,
        last_error=row.last_error,
    )


class MailboxAdmin:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def list_mailboxes(self) -> list[MailboxRead]:
        async with self.runtime.sessions() as session:
            return [_read(r) for r in await session.scalars(select(Mailbox).order_by(Mailbox.name))]

    async def create_mailbox(self, data: MailboxCreate) -> MailboxRead:
        """Processed mail is moved to ``processed_folder`` when given, else flagged. Raises ``Conflict``
        (field ``name``) for a name in use, ``InvalidInput`` as ``add_mailbox``."""
        try:
            row = await add_mailbox(
                self.runtime,
                name=data.name.strip(),
                host=data.host,
                port=data.port,
                username=data.username,
                password=data.password,
                security=data.security,
                folder=data.folder,
                processed_action="move" if data.processed_folder else "flag",
                processed_folder=data.processed_folder or None,
            )
        except IntegrityError as exc:
            raise Conflict(f"a mailbox is named {data.name!r} already", field="name") from exc
        return _read(row)

    async def set_enabled(self, mailbox_id: int, enabled: bool) -> MailboxRead:
        async with transaction(self.runtime.sessions) as session:
            row = await session.get(Mailbox, mailbox_id)
            if row is None:
                raise NotFound(f"mailbox {mailbox_id} not found")
            row.enabled = enabled
            return _read(row)
