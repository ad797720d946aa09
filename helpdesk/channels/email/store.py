"""Storing raw inbound mail: first, always, exactly once.

Every way in (IMAP, SMTP listener, pipe, HTTP) calls :func:`store_raw` before anything else happens to the
mail. The row's unique ``dedupe_key`` (the Message-ID, or the SHA-256 of the bytes when there is none)
makes a second delivery of the same mail a no-op that returns the first row's id.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import compat32

import msgspec
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.channels.email.headers import references_chain
from helpdesk.channels.email.models import InboundMail, InboundSource, InboundStatus

_HEADER_LIMIT = 256 * 1024  # the Message-ID is in the header block; never scan a whole 40 MB body for it


class StoredMail(msgspec.Struct, frozen=True):
    id: int
    created: bool  # False: this mail was stored before (a second delivery)


def message_id_of(raw: bytes) -> str | None:
    """The ``<...>`` Message-ID of a raw message, read from its header block only; None when absent or
    unreadable (the mail is then deduplicated by content)."""
    head = raw[:_HEADER_LIMIT]
    end = min((i for i in (head.find(b"\r\n\r\n"), head.find(b"\n\n")) if i >= 0), default=len(head))
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(head[: end + 2])
        value = headers.get("Message-ID")
    except Exception:  # any header garbage: fall back to the content hash
        return None
    if value is None:
        return None
    ids = references_chain(re.sub(r"\s+", "", str(value)))
    return ids[0] if ids and len(ids[0]) <= 255 else None


def dedupe_key(message_id: str | None, digest: str) -> str:
    return f"mid:{message_id}" if message_id else f"sha256:{digest}"


async def store_raw(
    session: AsyncSession,
    now: datetime,
    raw: bytes,
    source: InboundSource,
    *,
    mailbox: str | None = None,
) -> StoredMail:
    """Insert the raw mail unless a mail with the same key is stored already (``INSERT … ON CONFLICT DO
    NOTHING``, safe when two deliveries race). Runs in the caller's transaction."""
    digest = hashlib.sha256(raw).hexdigest()
    message_id = message_id_of(raw)
    key = dedupe_key(message_id, digest)
    values = {
        "dedupe_key": key,
        "message_id": message_id,
        "sha256": digest,
        "size": len(raw),
        "raw": raw,
        "source": str(source),
        "mailbox": (mailbox or "")[:320] or None,
        "received_at": now,
        "status": InboundStatus.PENDING.value,
        "attempts": 0,
        "auto_submitted": False,
        "acknowledged": False,
    }
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(InboundMail)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(InboundMail.id)
    )
    new_id = await session.scalar(statement)
    if new_id is not None:
        return StoredMail(id=int(new_id), created=True)
    existing = await session.scalar(select(InboundMail.id).where(InboundMail.dedupe_key == key))
    assert existing is not None
    return StoredMail(id=int(existing), created=False)
