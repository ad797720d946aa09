"""Path and query parameter types shared by the controllers: ids within what a BIGINT column holds, free
text without NUL characters (PostgreSQL refuses them in text), so a wild value is a 400, never a 500."""

from __future__ import annotations

from typing import Annotated

from litestar.params import PathParameter, QueryParameter

from helpdesk.core.types import NO_NUL

MAX_ID = 2**62

PathId = Annotated[int, PathParameter(ge=1, le=MAX_ID)]
QueryId = Annotated[int | None, QueryParameter(ge=1, le=MAX_ID)]
Offset = Annotated[int, QueryParameter(ge=0, le=10_000_000)]
# Tracking and sign-in links carry URL-safe tokens.
PathToken = Annotated[str, PathParameter(max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]


def search_text(max_length: int, description: str | None = None) -> QueryParameter:
    return QueryParameter(max_length=max_length, pattern=NO_NUL, description=description)
