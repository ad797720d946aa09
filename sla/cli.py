"""``helpdesk sla ...`` commands: deadline arithmetic on a calendar file, for checking a calendar by hand.

Instants are printed in ISO 8601 UTC with a ``+00:00`` offset. Bad input (unreadable or invalid calendar,
an instant without an offset, a malformed pause) exits with code 2 and says what to fix.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
import msgspec

from helpdesk.core.errors import InvalidInput
from sla.business_time import Pause, add_business_minutes, as_utc, business_minutes_between
from sla.calendar import BusinessCalendar, calendar_from_dict


def _calendar(_ctx: click.Context, _param: click.Parameter, value: str) -> BusinessCalendar:
    try:
        raw = Path(value).read_bytes()
    except OSError as exc:
        raise click.BadParameter(f"cannot read {value}: {exc.strerror}") from exc
    try:
        data = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise click.BadParameter(f"{value} is not valid JSON: {exc}") from exc
    try:
        return calendar_from_dict(data)
    except InvalidInput as exc:
        raise click.BadParameter(f"{value}: {exc.detail}") from exc


def _instant_option(_ctx: click.Context, _param: click.Parameter, value: str) -> datetime:
    return _instant(value)


def _pauses_option(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> list[Pause]:
    pauses: list[Pause] = []
    for text in values:
        if text.count("/") != 1:
            raise click.BadParameter(
                f"{text!r} is not START/END, e.g. 2027-01-11T10:00:00Z/2027-01-11T12:00:00Z"
            )
        start_text, end_text = text.split("/")
        start = _instant(start_text)
        end = _instant(end_text) if end_text.strip() else None
        if end is not None and end < start:
            raise click.BadParameter(f"{text!r} ends before it starts")
        pauses.append((start, end))
    return pauses


def _instant(text: str) -> datetime:
    text = text.strip()
    try:
        instant = datetime.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(
            f"{text!r} is not an ISO 8601 instant, e.g. 2027-01-11T09:30:00+03:00"
        ) from exc
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise click.BadParameter(
            f"{text!r} has no UTC offset; an offset is required, e.g. {text}Z or {text}+03:00"
        )
    return instant


_CALENDAR_HELP = "Calendar JSON file (the structure the API accepts)."
_PAUSE_HELP = "START/END in which the clock stood still; repeatable; an empty END is a pause still going on."


@click.group("sla")
def sla_group() -> None:
    """SLA calendars and deadlines."""


@sla_group.command("due")
@click.option("--calendar", required=True, callback=_calendar, help=_CALENDAR_HELP)
@click.option(
    "--start", required=True, callback=_instant_option, help="When the clock starts, with an offset."
)
@click.option("--minutes", required=True, type=click.FloatRange(min=0), help="Business minutes to add.")
@click.option("--pause", "pauses", multiple=True, callback=_pauses_option, help=_PAUSE_HELP)
def due_command(calendar: BusinessCalendar, start: datetime, minutes: float, pauses: list[Pause]) -> None:
    """Print the instant MINUTES business minutes after START, in UTC.

    Prints "paused" when an open pause stops the clock before the deadline.
    """
    try:
        due_at = add_business_minutes(calendar, start, minutes, pauses)
    except InvalidInput as exc:
        raise click.UsageError(exc.detail) from exc
    click.echo("paused" if due_at is None else _format(due_at))


@sla_group.command("between")
@click.option("--calendar", required=True, callback=_calendar, help=_CALENDAR_HELP)
@click.option("--start", required=True, callback=_instant_option, help="From, with an offset.")
@click.option("--end", required=True, callback=_instant_option, help="To, with an offset.")
@click.option("--pause", "pauses", multiple=True, callback=_pauses_option, help=_PAUSE_HELP)
def between_command(calendar: BusinessCalendar, start: datetime, end: datetime, pauses: list[Pause]) -> None:
    """Print the business minutes from START to END (negative if END comes first)."""
    try:
        minutes = business_minutes_between(calendar, start, end, pauses)
    except InvalidInput as exc:
        raise click.UsageError(exc.detail) from exc
    click.echo(str(int(minutes)) if minutes.is_integer() else f"{minutes:.6f}".rstrip("0"))


def _format(instant: datetime) -> str:
    return as_utc(instant, "instant").isoformat()
