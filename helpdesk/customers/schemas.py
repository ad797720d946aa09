from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from helpdesk.core.types import NO_NUL, Email, Id, Name
from helpdesk.core.zones import TimeZoneName

Domain = Annotated[str, msgspec.Meta(max_length=255, pattern=r"^[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")]
Language = Annotated[str, msgspec.Meta(pattern=r"^(en|ru)$", description="en or ru")]
Phone = Annotated[str, msgspec.Meta(max_length=50, pattern=NO_NUL)]
OrgName = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_NUL)]


class OrganisationCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: OrgName
    domain: Domain | None = None
    shares_tickets: bool = False


class OrganisationUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: OrgName | msgspec.UnsetType = msgspec.UNSET
    domain: Domain | msgspec.UnsetType | None = msgspec.UNSET
    shares_tickets: bool | msgspec.UnsetType = msgspec.UNSET


class OrganisationRead(msgspec.Struct, kw_only=True):
    id: int
    name: str
    domain: str | None
    shares_tickets: bool
    created_at: datetime


class CustomerCreate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    email: Email
    name: Name = ""
    phone: Phone | None = None
    organisation_id: Id | None = None
    # null: not chosen (pages follow the browser; mail is in the default language).
    language: Language | None = None


class CustomerUpdate(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    email: Email | msgspec.UnsetType = msgspec.UNSET
    name: Name | msgspec.UnsetType = msgspec.UNSET
    phone: Phone | msgspec.UnsetType | None = msgspec.UNSET
    organisation_id: Id | msgspec.UnsetType | None = msgspec.UNSET
    language: Language | msgspec.UnsetType | None = msgspec.UNSET
    # null: the help desk's default zone.
    time_zone: TimeZoneName | msgspec.UnsetType | None = msgspec.UNSET


class CustomerRead(msgspec.Struct, kw_only=True):
    id: int
    email: str
    name: str
    phone: str | None
    organisation_id: int | None
    language: str | None
    bouncing_since: datetime | None
    created_at: datetime
    time_zone: str | None = None
