"""Where attachment bytes live: in the database or in files named by their SHA-256, behind one interface."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpdesk.tickets.models import AttachmentBlob


class AttachmentStorage(Protocol):
    name: str

    async def put(self, session: AsyncSession, sha256: str, data: bytes) -> None: ...

    async def get(self, session: AsyncSession, sha256: str) -> bytes | None: ...


class DatabaseStorage:
    name = "db"

    async def put(self, session: AsyncSession, sha256: str, data: bytes) -> None:
        if await session.get(AttachmentBlob, sha256) is None:
            session.add(AttachmentBlob(sha256=sha256, data=data))

    async def get(self, session: AsyncSession, sha256: str) -> bytes | None:
        return await session.scalar(select(AttachmentBlob.data).where(AttachmentBlob.sha256 == sha256))


class DiskStorage:
    """Content-addressed files; written before the row commits, so a crash leaves at most an orphan file."""

    name = "disk"

    def __init__(self, root: str) -> None:
        self._root = Path(root)

    def _path(self, sha256: str) -> Path:
        return self._root / sha256[:2] / sha256

    async def put(self, session: AsyncSession, sha256: str, data: bytes) -> None:
        await asyncio.to_thread(self._write, self._path(sha256), data)

    async def get(self, session: AsyncSession, sha256: str) -> bytes | None:
        return await asyncio.to_thread(self._read, self._path(sha256))

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write aside and rename, so a reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        Path(tmp).replace(path)

    @staticmethod
    def _read(path: Path) -> bytes | None:
        return path.read_bytes() if path.exists() else None


def storage_for(kind: str, attachment_dir: str) -> AttachmentStorage:
    if kind == "disk":
        return DiskStorage(attachment_dir)
    if kind == "db":
        return DatabaseStorage()
    raise ValueError(f"unknown attachment storage {kind!r}: use 'db' or 'disk'")
