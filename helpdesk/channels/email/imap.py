"""IMAP fetch: store every unseen message of a mailbox, and only then mark it done on the server.

The standard library's ``imaplib`` runs in a thread (one blocking call at a time). Messages are read with
``BODY.PEEK[]`` so reading does not mark them seen; each is stored (idempotent by Message-ID or content)
before it is flagged ``\\Seen \\Flagged`` or moved to the processed folder. A crash in between leaves the
message unseen on the server; the next fetch stores nothing new for it and marks it then.
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import logging
import ssl
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from helpdesk.channels.email.models import InboundSource, Mailbox, MailboxSecurity, ProcessedAction
from helpdesk.core.db import transaction
from helpdesk.core.errors import InvalidInput, NotFound, TooLarge
from helpdesk.runtime import Runtime

log = logging.getLogger(__name__)

MAX_PER_FETCH = 500  # the rest waits for the next fetch, so one huge backlog does not hold a worker forever
TIMEOUT_SECONDS = 60


class ImapError(Exception):
    pass


def _connect(mailbox: Mailbox) -> imaplib.IMAP4:
    if mailbox.security == MailboxSecurity.TLS:
        connection: imaplib.IMAP4 = imaplib.IMAP4_SSL(
            mailbox.host, mailbox.port, ssl_context=ssl.create_default_context(), timeout=TIMEOUT_SECONDS
        )
    else:
        connection = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=TIMEOUT_SECONDS)
        if mailbox.security == MailboxSecurity.STARTTLS:
            connection.starttls(ssl.create_default_context())
    connection.login(mailbox.username, mailbox.password)
    return connection


def _check(result: tuple[str, Any], what: str) -> Any:
    status, data = result
    if status != "OK":
        raise ImapError(f"{what}: {status} {data!r}")
    return data


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _Session:
    """One IMAP connection, driven from async code one blocking call at a time."""

    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox
        self.connection: imaplib.IMAP4 | None = None

    async def call(self, function: Callable[..., tuple[str, Any]], *args: Any, what: str) -> Any:
        return _check(await asyncio.to_thread(function, *args), what)

    async def open(self) -> list[bytes]:
        self.connection = await asyncio.to_thread(_connect, self.mailbox)
        await self.call(self.connection.select, _quote(self.mailbox.folder), what="SELECT")
        data = await self.call(self.connection.uid, "SEARCH", None, "UNSEEN", what="SEARCH UNSEEN")
        return (data[0] or b"").split()[:MAX_PER_FETCH]

    async def fetch(self, uid: bytes) -> bytes | None:
        assert self.connection is not None
        data = await self.call(self.connection.uid, "FETCH", uid, "(BODY.PEEK[])", what="FETCH")
        for item in data:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
                return item[1]
        return None

    async def mark_done(self, uid: bytes) -> None:
        assert self.connection is not None
        connection = self.connection
        if self.mailbox.processed_action == ProcessedAction.MOVE and self.mailbox.processed_folder:
            target = _quote(self.mailbox.processed_folder)
            if "MOVE" in connection.capabilities:
                await self.call(connection.uid, "MOVE", uid, target, what="MOVE")
                return
            await self.call(connection.uid, "COPY", uid, target, what="COPY")
            await self.call(connection.uid, "STORE", uid, "+FLAGS", r"(\Seen \Deleted)", what="STORE")
            await self.call(connection.expunge, what="EXPUNGE")
            return
        await self.call(connection.uid, "STORE", uid, "+FLAGS", r"(\Seen \Flagged)", what="STORE")

    async def close(self) -> None:
        if self.connection is None:
            return
        connection, self.connection = self.connection, None
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            await asyncio.to_thread(connection.logout)


async def fetch_mailbox(runtime: Runtime, mailbox_id: int) -> int:
    """Store every unseen message of one enabled mailbox, marking each done on the server only after it
    is stored; returns how many were new. Connection and protocol errors are recorded on the mailbox
    (``last_error``) and end this fetch; the next one tries again."""
    from helpdesk.channels.email.service import MailService

    async with runtime.sessions() as session:
        mailbox = await session.get(Mailbox, mailbox_id)
    if mailbox is None or not mailbox.enabled:
        return 0
    service = MailService(runtime)
    imap = _Session(mailbox)
    stored_new = 0
    error: str | None = None
    try:
        for uid in await imap.open():
            raw = await imap.fetch(uid)
            if raw is None:
                continue
            try:
                stored = await service.store(raw, InboundSource.IMAP, mailbox=mailbox.name)
            except TooLarge as exc:  # left unseen on the server, where a person can still read it
                error = f"message uid {uid.decode()} left on the server: {exc.detail}"
                continue
            stored_new += int(stored.created)
            await imap.mark_done(uid)
    except (OSError, imaplib.IMAP4.error, ImapError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        log.warning("IMAP fetch from mailbox %s failed: %s", mailbox.name, error)
    finally:
        await imap.close()
    async with transaction(runtime.sessions) as session:
        row = await session.get(Mailbox, mailbox_id)
        if row is not None:
            row.last_fetched_at = runtime.clock.now()
            row.last_error = error
    return stored_new


async def enabled_mailbox_ids(runtime: Runtime) -> list[int]:
    async with runtime.sessions() as session:
        return list(await session.scalars(select(Mailbox.id).where(Mailbox.enabled.is_(True))))


async def add_mailbox(
    runtime: Runtime,
    *,
    name: str,
    host: str,
    port: int,
    username: str,
    password: str,
    security: str = MailboxSecurity.TLS,
    folder: str = "INBOX",
    processed_action: str = ProcessedAction.FLAG,
    processed_folder: str | None = None,
    enabled: bool = True,
) -> Mailbox:
    """Configure a mailbox to fetch from. Raises ``InvalidInput`` for an unknown security or action, or a
    move without a target folder."""
    if security not in set(MailboxSecurity):
        raise InvalidInput(f"security must be one of {', '.join(MailboxSecurity)}", field="security")
    if processed_action not in set(ProcessedAction):
        raise InvalidInput(f"action must be one of {', '.join(ProcessedAction)}", field="processed_action")
    if processed_action == ProcessedAction.MOVE and not processed_folder:
        raise InvalidInput("moving processed mail needs a target folder", field="processed_folder")
    async with transaction(runtime.sessions) as session:
        mailbox = Mailbox(
            name=name,
            host=host,
            port=port,
            security=security,
            username=username,
            password=password,
            folder=folder,
            processed_action=processed_action,
            processed_folder=processed_folder,
            enabled=enabled,
            created_at=runtime.clock.now(),
        )
        session.add(mailbox)
        await session.flush()
        return mailbox


async def get_mailbox(runtime: Runtime, mailbox_id: int) -> Mailbox:
    async with runtime.sessions() as session:
        mailbox = await session.get(Mailbox, mailbox_id)
    if mailbox is None:
        raise NotFound(f"mailbox {mailbox_id} not found")
    return mailbox
