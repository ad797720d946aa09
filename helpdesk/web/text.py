"""Pure helpers for showing message text: fold quoted history so the timeline reads as a conversation."""

from __future__ import annotations

import re

_QUOTE_STARTS = (
    re.compile(r"^>"),
    re.compile(r"^On .{4,200} wrote:\s*$"),
    re.compile(r"^-{2,}\s*Original Message\s*-{2,}", re.IGNORECASE),
    re.compile(r"^-{2,}\s*Исходное сообщение\s*-{2,}", re.IGNORECASE),
    re.compile(r"^.{4,200}\s(писал|написал)\(?а?\)?:\s*$"),
    re.compile(r"^From: .+$"),
)


def split_quoted(text: str) -> tuple[str, str]:
    """(the new text, the quoted history) of a message; the history is empty when nothing is quoted."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if index > 0 and any(pattern.match(line.strip()) for pattern in _QUOTE_STARTS):
            return "\n".join(lines[:index]).rstrip(), "\n".join(lines[index:])
    return text, ""


def countdown_text(seconds: float, units: tuple[str, str, str] = ("d", "h", "m")) -> str:
    """``2h 15m`` left, or ``−35m`` past the deadline: two units at most, minutes rounded toward the deadline."""
    sign = "−" if seconds < 0 else ""
    minutes = int(abs(seconds) // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{sign}{days}{units[0]} {hours}{units[1]}"
    if hours:
        return f"{sign}{hours}{units[1]} {mins}{units[2]}"
    return f"{sign}{mins}{units[2]}"
