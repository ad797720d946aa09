"""Who set a ticket's tag, read from the ticket's audit trail (pure): the tag rule makes field work only for tags
that staff set, never for one a customer chose when opening a request.

A ticket's tags come from two kinds of audit rows: its opening (``created``: the tags it was opened with are not
listed, they are the opener's) and each change of tags (``tags``: old and new lists). The tag as the ticket has it
now was set by the latest change that added it, else by whoever opened the ticket. A staff member who edits the
other tags of a ticket leaves a customer's tag the customer's: only removing it and adding it again makes it theirs.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

# The audit fields that give a ticket tags.
OPENED = "created"
TAGS_CHANGED = "tags"
# How the audit trail joins a list of tags (``helpdesk.tickets.audit``); tags never contain a comma.
_SEPARATOR = ", "


@dataclass(frozen=True, slots=True)
class TagChange:
    """One audit row that gave the ticket tags: who (the audit's actor label and whether a staff user) and which
    tags it added (``None`` for the ticket's opening, whose tags are not listed)."""

    actor: str
    by_staff: bool
    added: frozenset[str] | None


def tag_change(field: str, old: str | None, new: str | None, *, actor: str, by_staff: bool) -> TagChange:
    """The :class:`TagChange` of one ``created`` or ``tags`` audit row (its old and new values as stored)."""
    if field == OPENED:
        return TagChange(actor, by_staff, None)
    return TagChange(actor, by_staff, frozenset(_tags(new)) - frozenset(_tags(old)))


def _tags(value: str | None) -> Iterable[str]:
    return (tag for tag in (value or "").split(_SEPARATOR) if tag)


def setter_of(tag: str, changes: Sequence[TagChange]) -> TagChange | None:
    """The change that set ``tag`` as the ticket has it now (``changes`` oldest first): the latest one that added
    it, else the ticket's opening; ``None`` when the trail knows neither."""
    opening: TagChange | None = None
    latest: TagChange | None = None
    for change in changes:
        if change.added is None:
            opening = change
        elif tag in change.added:
            latest = change
    return latest or opening


def staff_set_tags(tags: Collection[str], changes: Sequence[TagChange]) -> set[str]:
    """The ``tags`` a staff member set (see :func:`setter_of`); a tag whose setter is unknown is not one."""
    return {tag for tag in tags if (setter := setter_of(tag, changes)) is not None and setter.by_staff}


def refusal_of_unstaffed_tags(
    tags: Collection[str], changes: Sequence[TagChange], rule_tags: Collection[str]
) -> str | None:
    """Why the rule ignores the ticket's rule tags, for its audit trail, when it carries some and no staff member
    set any (None otherwise): ``no work order: 'onsite' was set by Olga (customer), not by staff``."""
    present = sorted(tag for tag in tags if tag in rule_tags)
    if not present or staff_set_tags(present, changes):
        return None
    setter = setter_of(present[0], changes)
    by = setter.actor if setter is not None else "someone the audit trail does not name"
    return f"no work order: {present[0]!r} was set by {by}, not by staff"
