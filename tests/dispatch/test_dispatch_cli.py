"""``helpdesk dispatch plan|show|publish|jobs`` against the test database: what an operator sees, the exit codes,
and bad input named without a traceback."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from fieldkit import (
    DAY,
    WEEKDAYS_8_TO_17,
    drain_jobs,  # noqa: F401  (an autouse fixture)
    make_skill,
    make_technician,
    make_work_order,
    work_order,
)
from sqlalchemy import select

from helpdesk.cli import main
from helpdesk.notifications.models import OutgoingMail

pytestmark = pytest.mark.integration

BERLIN = ZoneInfo("Europe/Berlin")


async def dispatch(runtime: Any, *args: str, **env: str) -> Result:
    """Run ``helpdesk dispatch ARGS`` on the test database (in a thread: the command runs its own loop)."""
    environment = {"HELPDESK_DATABASE_URL": runtime.settings.database_url, "HELPDESK_REDIS_URL": "", **env}
    return await asyncio.to_thread(CliRunner().invoke, main, ["dispatch", *args], env=environment)


def assert_clean_exit(result: Result, code: int) -> None:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit) or result.exception is None, result.exception


@pytest.fixture
async def field_day(client, runtime, admin, agent, make_staff, open_ticket) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A Berlin technician, a boiler job they can do and a roofing job nobody can."""
    staff, tech = await make_technician(
        client, admin, make_staff, hours={"timezone": "Europe/Berlin", "week": WEEKDAYS_8_TO_17}
    )
    await make_skill(client, admin, "roofing")
    served = await make_work_order(client, agent, open_ticket, customer_email="carla@example.com")
    nobody = await make_work_order(
        client, agent, open_ticket, customer_email="rolf@example.com", required_skills={"roofing": 1}
    )
    return {"staff": staff, "tech": tech, "served": served, "nobody": nobody}


async def test_plan_prints_the_visits_in_the_technicians_zone_the_unplanned_with_the_reason_and_totals(  # type: ignore[no-untyped-def]
    client, runtime, admin, agent, field_day
):
    result = await dispatch(runtime, "plan", DAY, "--time-limit", "1", "--as", agent.email)

    assert_clean_exit(result, 0)
    lines = result.stdout.splitlines()
    assert lines[0] == f"Plan {DAY} v1 (done, pyvrp)"
    assert "Tom Tech (times in Europe/Berlin, CET): 1 visit" in lines
    plan = (await client.get(f"/api/v1/dispatch/plans?day={DAY}", headers=agent.headers)).json()[0]
    plan = (await client.get(f"/api/v1/dispatch/plans/{plan['id']}", headers=agent.headers)).json()
    [visit] = plan["visits"]
    start = datetime.fromisoformat(visit["start_at"]).astimezone(BERLIN)
    served, nobody = field_day["served"], field_day["nobody"]
    [visit_line] = [line for line in lines if served["reference"] in line]
    assert visit_line.startswith(f"  1. {start:%H:%M}–")
    assert "Unter den Linden 1, Berlin" in visit_line
    [unplanned_line] = [line for line in lines if nobody["reference"] in line]
    assert "no_skilled_technician" in unplanned_line
    assert lines[-1].startswith("Totals: 1 of 2 work orders planned, 1 not planned; travel ")


async def test_publish_puts_the_orders_on_the_day_and_mails_the_customers_and_show_prints_the_published_plan(  # type: ignore[no-untyped-def]
    client, runtime, agent, field_day
):
    assert_clean_exit(await dispatch(runtime, "plan", DAY, "--time-limit", "0", "--as", agent.email), 0)
    result = await dispatch(runtime, "publish", DAY, HELPDESK_DISPATCHER=agent.email)

    assert_clean_exit(result, 0)
    assert result.stdout.splitlines()[0].startswith(f"Plan {DAY} v1 (published, ")
    assert "Published: 1 visits; customers are mailed their window." in result.stdout
    placed = await work_order(client, agent, field_day["served"]["id"])
    assert placed["status"] == "scheduled"
    assert placed["technician_id"] == field_day["tech"]["id"]
    async with runtime.sessions() as session:
        mailed = list(
            await session.scalars(
                select(OutgoingMail.to_address).where(OutgoingMail.kind == "field_appointment")
            )
        )
    assert mailed == ["carla@example.com"]
    shown = await dispatch(runtime, "show", DAY, "--as", agent.email)
    assert_clean_exit(shown, 0)
    assert shown.stdout.splitlines()[0].startswith(f"Plan {DAY} v1 (published, ")


async def test_publishing_a_published_plan_again_changes_nothing(runtime, agent, field_day) -> None:  # type: ignore[no-untyped-def]
    assert_clean_exit(await dispatch(runtime, "plan", DAY, "--time-limit", "0", "--as", agent.email), 0)
    assert_clean_exit(await dispatch(runtime, "publish", DAY, "--as", agent.email), 0)

    again = await dispatch(runtime, "publish", DAY, "--as", agent.email)

    assert_clean_exit(again, 0)
    assert again.stdout.startswith(f"Plan {DAY} v1 (published, ")
    assert again.stdout.strip().endswith("is published already; nothing changed.")


async def test_jobs_prints_the_technicians_day_in_their_zone_with_window_address_and_contact(  # type: ignore[no-untyped-def]
    client, runtime, agent, field_day
):
    assert_clean_exit(await dispatch(runtime, "plan", DAY, "--time-limit", "0", "--as", agent.email), 0)
    assert_clean_exit(await dispatch(runtime, "publish", DAY, "--as", agent.email), 0)
    placed = await work_order(client, agent, field_day["served"]["id"])

    result = await dispatch(runtime, "jobs", field_day["staff"].email, DAY)

    assert_clean_exit(result, 0)
    lines = result.stdout.splitlines()
    assert lines[0] == f"Tom Tech, Monday {DAY} (times in Europe/Berlin, CET): 1 job"
    window_start = datetime.fromisoformat(placed["window_start_at"]).astimezone(BERLIN)
    window_end = datetime.fromisoformat(placed["window_end_at"]).astimezone(BERLIN)
    assert lines[1].endswith(
        f"{placed['reference']}  scheduled  window {window_start:%H:%M}–{window_end:%H:%M}"
    )
    assert lines[3] == "   Unter den Linden 1, Berlin  geo:52.517000,13.389000"
    assert "carla@example.com" in lines[4]


async def test_show_without_a_plan_for_the_day_exits_1_and_says_how_to_make_one(runtime, agent) -> None:  # type: ignore[no-untyped-def]
    result = await dispatch(runtime, "show", "2027-03-02", "--as", agent.email)

    assert_clean_exit(result, 1)
    assert (
        "there is no plan for 2027-03-02; make one with: helpdesk dispatch plan 2027-03-02" in result.stderr
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plan", "01/03/2027", "--as", "{agent}"], "'01/03/2027' is not a date; use YYYY-MM-DD"),
        (["plan", DAY], "--as: name the staff user this command acts for"),
        (["plan", DAY, "--as", "nobody@example.com"], "--as: no active staff user has the address nobody@"),
        (["publish", DAY, "--as", "{technician}"], "dispatching needs an admin, manager or agent"),
        (["show", DAY, "--version", "7", "--as", "{agent}"], "--version: 2027-03-01 has no plan v7"),
        (
            ["jobs", "nobody@example.com", DAY],
            "TECHNICIAN_EMAIL: no active staff user has the address nobody@",
        ),
        (["jobs", "{agent}", DAY], "is not a technician"),
        (["jobs", "{technician}", "next week"], "'next week' is not a date"),
    ],
)
async def test_bad_input_exits_2_with_a_message_naming_what_is_wrong(  # type: ignore[no-untyped-def]
    runtime, agent, field_day, args, message
):
    named = {"agent": agent.email, "technician": field_day["staff"].email}

    result = await dispatch(runtime, *[arg.format(**named) for arg in args])

    assert_clean_exit(result, 2)
    assert message in result.output
