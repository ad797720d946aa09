"""Constrained field types shared by the API schemas (msgspec reports violations with the field's path)."""

from __future__ import annotations

from typing import Annotated

import msgspec

Email = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$",
        max_length=320,
        description="An e-mail address",
        examples=["anna.petrova@example.com"],
    ),
]
Name = Annotated[str, msgspec.Meta(max_length=200)]
ShortText = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
LongText = Annotated[str, msgspec.Meta(min_length=1, max_length=100_000)]
Tag = Annotated[str, msgspec.Meta(min_length=1, max_length=50, pattern=r"^[\w .:/+-]+$")]
Id = Annotated[int, msgspec.Meta(ge=1, le=2**62)]
