"""IANA time zone names as people give them: checked against the zone database, turned into ``ZoneInfo``.

Storage is UTC everywhere; a zone is only a way of showing an instant to a person.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated
from zoneinfo import ZoneInfo, available_timezones

import msgspec

from helpdesk.core.errors import InvalidInput

UTC_NAME = "UTC"

TimeZoneName = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=64,
        description="An IANA time zone name",
        examples=["Europe/Berlin"],
    ),
]


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    # Membership in the database's list, not ZoneInfo(name): that would also open paths such as "../x".
    return frozenset(available_timezones())


def is_time_zone(name: str) -> bool:
    return name in _known_zones()


def check_time_zone(name: str, field: str = "time_zone") -> str:
    """``name`` when it is an IANA zone (``Europe/Berlin``); ``InvalidInput`` naming ``field`` otherwise."""
    if not is_time_zone(name):
        raise InvalidInput(
            f"{field}: unknown time zone {name!r}; use an IANA name such as Europe/Berlin", field=field
        )
    return name


@lru_cache(maxsize=128)
def zone_named(name: str | None, fallback: str = UTC_NAME) -> ZoneInfo:
    """The zone ``name``, else ``fallback``, else UTC: for showing a time, so it never raises."""
    for candidate in (name, fallback):
        if candidate and is_time_zone(candidate):
            return ZoneInfo(candidate)
    return ZoneInfo(UTC_NAME)


def time_zone_names() -> list[str]:
    """Every zone a person may choose, sorted (the settings page offers them as suggestions)."""
    return sorted(name for name in _known_zones() if "/" in name or name == UTC_NAME)
