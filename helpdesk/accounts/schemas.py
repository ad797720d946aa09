from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from helpdesk.core.types import NO_NUL, Email, Id
from helpdesk.core.zones import TimeZoneName

Password = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
NewPassword = Annotated[
    str, msgspec.Meta(min_length=10, max_length=200, description="At least 10 characters")
]
PersonName = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_NUL)]
RoleName = Literal["admin", "manager", "agent", "technician"]
GroupName = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=NO_NUL)]
TokenName = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=NO_NUL)]
Language = Annotated[str, msgspec.Meta(pattern=r"^(en|ru)$", description="en or ru")]


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    password: Password


class MagicLinkRequest(msgspec.Struct, forbid_unknown_fields=True):
    email: Email


class Me(msgspec.Struct, kw_only=True):
    kind: Literal["staff", "customer"]
    name: str
    user_id: int | None = None
    role: str | None = None
    customer_id: int | None = None
    # Echo it in X-CSRF-Token on unsafe requests made with the session cookie.
    csrf_token: str | None = None


class ApiTokenCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: TokenName


class ApiTokenCreated(msgspec.Struct, kw_only=True):
    id: int
    name: str
    # Shown once; only its hash is stored.
    token: str


class UserCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    email: Email
    name: PersonName
    role: RoleName
    password: NewPassword | None = None


class UserUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: PersonName | msgspec.UnsetType = msgspec.UNSET
    role: RoleName | msgspec.UnsetType = msgspec.UNSET
    is_active: bool | msgspec.UnsetType = msgspec.UNSET
    password: NewPassword | msgspec.UnsetType = msgspec.UNSET
    # null: not chosen; pages follow the browser.
    language: Language | msgspec.UnsetType | None = msgspec.UNSET
    # null: the help desk's default zone.
    time_zone: TimeZoneName | msgspec.UnsetType | None = msgspec.UNSET


class UserRead(msgspec.Struct, kw_only=True):
    id: int
    email: str
    name: str
    role: str
    is_active: bool
    created_at: datetime
    language: str | None = None
    time_zone: str | None = None


class GroupCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: GroupName
    email: Email | None = None
    member_ids: Annotated[list[Id], msgspec.Meta(max_length=500)] = msgspec.field(default_factory=list)


class GroupUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: GroupName | msgspec.UnsetType = msgspec.UNSET
    email: Email | msgspec.UnsetType | None = msgspec.UNSET
    member_ids: Annotated[list[Id], msgspec.Meta(max_length=500)] | msgspec.UnsetType = msgspec.UNSET


class GroupRead(msgspec.Struct, kw_only=True):
    id: int
    name: str
    email: str | None
    member_ids: list[int]
    created_at: datetime
