"""Constrained field types shared by the API schemas (msgspec reports violations with the field's path)."""

from __future__ import annotations

from typing import Annotated

import msgspec

# PostgreSQL refuses NUL in text: free text must not carry one.
NO_NUL = r"^[^\x00]*$"

Email = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[^@\s<>,;\"\x00-\x1f\x7f]+@[^@\s<>,;\"\x00-\x1f\x7f]+\.[^@\s<>,;\"\x00-\x1f\x7f]+$",
        max_length=320,
        description="An e-mail address",
        examples=["anna.petrova@example.com"],
    ),
]
Name = Annotated[str, msgspec.Meta(max_length=200, pattern=NO_NUL)]
ShortText = Annotated[str, msgspec.Meta(min_length=1, max_length=300, pattern=NO_NUL)]
LongText = Annotated[str, msgspec.Meta(min_length=1, max_length=100_000, pattern=NO_NUL)]
Tag = Annotated[str, msgspec.Meta(min_length=1, max_length=50, pattern=r"^[\w .:/+-]+$")]
Id = Annotated[int, msgspec.Meta(ge=1, le=2**62)]
