"""API shapes of canned responses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Body = Annotated[str, msgspec.Meta(min_length=1, max_length=20_000)]
Language = Annotated[str, msgspec.Meta(max_length=10, pattern=r"^([a-z]{2}(-[A-Za-z]{2})?)?$")]


class CannedCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    title: Title
    body: Body
    language: Language = ""
    shared: bool = False


class CannedRead(msgspec.Struct, kw_only=True):
    id: int
    title: str
    body: str
    language: str
    shared: bool
    owner_id: int | None
    updated_at: datetime
