"""``helpdesk sla due`` and ``helpdesk sla between`` through the real command group."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpdesk.cli import main

WORKDAY = ["09:00-13:00", "14:00-18:00"]
MOSCOW = {
    "timezone": "Europe/Moscow",
    "week": {"mon": WORKDAY, "tue": WORKDAY, "wed": WORKDAY, "thu": WORKDAY, "fri": WORKDAY, "sun": []},
    "holidays": ["2027-01-07"],
    "holiday_country": "RU",
    "holiday_subdivision": None,
    "extra_working_days": ["2027-01-09"],
}


@pytest.fixture
def calendar_file(tmp_path: Path) -> str:
    path = tmp_path / "calendar.json"
    path.write_text(json.dumps(MOSCOW))
    return str(path)


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["sla", *args])
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("start", "minutes", "due"),
    [
        ("2027-01-11T09:30:00+03:00", "60", "2027-01-11T07:30:00+00:00"),
        ("2027-01-11T06:30:00Z", "60", "2027-01-11T07:30:00+00:00"),
        ("2027-01-08T17:30:00+03:00", "60", "2027-01-09T07:00:00+00:00"),  # holiday, then a working Saturday
        ("2027-01-11T12:30:00+03:00", "60", "2027-01-11T11:30:00+00:00"),  # across lunch
        ("2027-01-11T18:30:00+03:00", "0", "2027-01-12T06:00:00+00:00"),
    ],
)
def test_due_prints_the_deadline_in_utc(calendar_file: str, start: str, minutes: str, due: str) -> None:
    code, output = run("due", "--calendar", calendar_file, "--start", start, "--minutes", minutes)

    assert (code, output) == (0, f"{due}\n")


def test_due_with_pauses_skips_them_and_an_open_pause_prints_paused(calendar_file: str) -> None:
    start = ["due", "--calendar", calendar_file, "--start", "2027-01-11T10:00:00+03:00", "--minutes", "60"]

    assert run(*start, "--pause", "2027-01-11T10:30:00+03:00/2027-01-11T15:00:00+03:00") == (
        0,
        "2027-01-11T12:30:00+00:00\n",
    )
    assert run(*start, "--pause", "2027-01-11T10:30:00+03:00/") == (0, "paused\n")


def test_between_prints_business_minutes(calendar_file: str) -> None:
    code, output = run(
        "between",
        "--calendar",
        calendar_file,
        "--start",
        "2027-01-08T10:00:00+03:00",
        "--end",
        "2027-01-11T10:00:30+03:00",
    )

    # Saturday the 9th works 8 hours, Monday one hour and a half minute.
    assert (code, output) == (0, "540.5\n")


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--start", "2027-01-11T09:30:00", "has no UTC offset; an offset is required"),
        ("--start", "next monday", "is not an ISO 8601 instant"),
        ("--minutes", "-5", "-5"),
        ("--pause", "2027-01-11T10:00:00Z", "is not START/END"),
        ("--pause", "2027-01-11T10:00:00Z/2027-01-11T09:00:00Z", "ends before it starts"),
        ("--pause", "2027-01-11T10:00:00/", "an offset is required"),
    ],
)
def test_bad_arguments_exit_with_code_2_and_say_what_is_wrong(
    calendar_file: str, option: str, value: str, message: str
) -> None:
    arguments = {"--start": "2027-01-11T09:30:00Z", "--minutes": "60", option: value}
    flat = [item for pair in arguments.items() for item in pair]

    code, output = run("due", "--calendar", calendar_file, *flat)

    assert code == 2
    assert message in output
    assert "Traceback" not in output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"week": ', "is not valid JSON"),
        (
            '{"week": {"mon": ["09:00-13:00", "14:00-13:00"]}}',
            "week.mon[1]: interval 14:00-13:00 ends before it starts",
        ),
        ('{"timezone": "Europe/Atlantis", "24/7": true}', "timezone: unknown time zone"),
    ],
)
def test_bad_calendar_exits_with_code_2_naming_the_field(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "calendar.json"
    path.write_text(content)

    code, output = run("due", "--calendar", str(path), "--start", "2027-01-11T09:30:00Z", "--minutes", "1")

    assert code == 2
    assert message in output


def test_missing_calendar_file_exits_with_code_2(tmp_path: Path) -> None:
    code, output = run(
        "due", "--calendar", str(tmp_path / "none.json"), "--start", "2027-01-11T09:30:00Z", "--minutes", "1"
    )

    assert code == 2
    assert "cannot read" in output
