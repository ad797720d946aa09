"""Pure parsing of knowledge-base articles from JSON Lines (no database, no index).

One JSON object per line::

    {"id": "E-1042", "title": "...", "body": "...", "language": "en",
     "summary": "...", "tags": ["printer"], "category": "Hardware",
     "visibility": "public" | "internal", "status": "draft" | "published" | "archived"}

``id``, ``title`` and ``body`` are required; ``language`` is ``"en"`` or ``"ru"`` and, when absent,
detected from the script. Blank lines are skipped. The import is all-or-nothing: ``parse_lines``
returns either every record or, if any line is wrong, no record and every error with its line number,
so a caller never half-imports a file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from knowledge_base.analysis import SUPPORTED_LANGUAGES, detect_language

_E = TypeVar("_E", bound=StrEnum)


class Visibility(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"


class ArticleStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


@dataclass(frozen=True, slots=True)
class ArticleRecord:
    """One parsed article; it satisfies ``knowledge_base.index.ArticleLike``."""

    id: str
    title: str
    body: str
    language: str
    summary: str = ""
    tags: tuple[str, ...] = ()
    category: str | None = None
    visibility: Visibility = Visibility.PUBLIC
    status: ArticleStatus = ArticleStatus.PUBLISHED


@dataclass(frozen=True, slots=True)
class LineError:
    """What is wrong on one line (1-based, as an editor shows it)."""

    line: int
    message: str


@dataclass(frozen=True, slots=True)
class ImportResult:
    """Either ``records`` (no errors) or ``errors`` (and no records), never both."""

    records: list[ArticleRecord] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


_KNOWN_FIELDS = frozenset(
    {"id", "title", "body", "language", "summary", "tags", "category", "visibility", "status"}
)


def _text(row: dict[str, Any], name: str, *, required: bool) -> str | None:
    value = row.get(name)
    if value is None:
        if required:
            raise ValueError(f"missing {name}")
        return None
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    if required and not value.strip():
        raise ValueError(f"empty {name}")
    return value


def _choice(row: dict[str, Any], name: str, enum: type[_E], default: _E) -> _E:
    value = row.get(name)
    if value is None:
        return default
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(member.value for member in enum)
        raise ValueError(f"unknown {name} {value!r} (expected one of: {allowed})") from None


def parse_record(row: object) -> ArticleRecord:
    """Validate one decoded JSON value; raises ``ValueError`` with a message fit for a person."""
    if not isinstance(row, dict):
        raise ValueError("expected a JSON object")
    unknown = sorted(set(row) - _KNOWN_FIELDS)
    if unknown:
        raise ValueError(f"unknown field(s): {', '.join(unknown)}")
    raw_id = row.get("id")
    if isinstance(raw_id, int) and not isinstance(raw_id, bool):
        raw_id = str(raw_id)
    if not isinstance(raw_id, str) or not raw_id.strip():
        raise ValueError("missing id" if raw_id is None else "id must be a non-empty string")
    title = _text(row, "title", required=True)
    body = _text(row, "body", required=True)
    if title is None or body is None:  # required=True never returns None; this narrows the type
        raise ValueError("missing title or body")
    language = _text(row, "language", required=False)
    if language is None:
        language = detect_language(f"{title} {body}")
    elif language not in SUPPORTED_LANGUAGES:
        raise ValueError(
            f"unknown language code {language!r} (expected one of: {', '.join(sorted(SUPPORTED_LANGUAGES))})"
        )
    tags = row.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise ValueError("tags must be a list of strings")
    return ArticleRecord(
        id=raw_id.strip(),
        title=title.strip(),
        body=body,
        language=language,
        summary=_text(row, "summary", required=False) or "",
        tags=tuple(tags),
        category=_text(row, "category", required=False),
        visibility=_choice(row, "visibility", Visibility, Visibility.PUBLIC),
        status=_choice(row, "status", ArticleStatus, ArticleStatus.PUBLISHED),
    )


def parse_lines(lines: Iterable[str]) -> ImportResult:
    """Parse JSON Lines. Guarantees: either every record in file order and no errors, or no record
    and one error per bad line (bad JSON, missing or empty id/title/body, unknown language,
    visibility or status, unknown field, an id already used on an earlier line)."""
    records: list[ArticleRecord] = []
    errors: list[LineError] = []
    first_line_of: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = parse_record(json.loads(line))
        except json.JSONDecodeError as error:
            errors.append(LineError(number, f"bad JSON: {error.msg} at column {error.colno}"))
            continue
        except ValueError as error:
            errors.append(LineError(number, str(error)))
            continue
        if record.id in first_line_of:
            errors.append(
                LineError(number, f"duplicate id {record.id!r} (first on line {first_line_of[record.id]})")
            )
            continue
        first_line_of[record.id] = number
        records.append(record)
    if errors:
        return ImportResult(errors=errors)
    return ImportResult(records=records)


def parse_file(path: Path) -> ImportResult:
    """``parse_lines`` over a UTF-8 file; a file that is not UTF-8 is one error on its first bad line."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        line = path.read_bytes()[: error.start].count(b"\n") + 1
        return ImportResult(errors=[LineError(line, "not UTF-8 text")])
    return parse_lines(text.splitlines())
