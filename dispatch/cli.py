"""``helpdesk dispatch ...`` commands: plan a day, show and publish its plan, print a technician's job list.

They act through the same services as the API (and are audited the same way), on behalf of the staff user
named by ``--as EMAIL`` or ``HELPDESK_DISPATCHER``. ``dispatch`` does not import the help desk, so the help
desk hands the commands their runtime with :func:`use_host` (``helpdesk.cli`` does, at start).

Exit codes: 0 done; 1 it could not be done (the plan failed, nothing to publish, the database is out of
reach); 2 bad input, with a message naming what is wrong (a date, a technician, the acting user).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import date, timedelta
from typing import Protocol

import click
from sqlalchemy.exc import SQLAlchemyError

from dispatch.board import day_board
from dispatch.job_list import JobListService
from dispatch.plan_edits import PlanEditService
from dispatch.plan_text import job_lines, plan_heading, plan_lines
from dispatch.plans import PlanService, PlanStatus
from dispatch.ports import TicketPort
from dispatch.schemas import PlanCreate, PlanRead
from dispatch.service import DISPATCHERS, technician_of
from helpdesk.core.context import AppContext
from helpdesk.core.errors import DomainError, InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from helpdesk.core.principal import Principal
from helpdesk.core.zones import zone_named

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
RELATIVE_DAYS = {"today": 0, "tomorrow": 1}
# Errors that mean the operator named something wrong (exit 2); other domain errors are states (exit 1).
BAD_INPUT_ERRORS = (InvalidInput, NotFound, PermissionDenied, NotAuthenticated)


class CommandHost(Protocol):
    """What the commands need from the running help desk."""

    @property
    def context(self) -> AppContext: ...

    @property
    def tickets(self) -> TicketPort: ...

    async def staff_principal(self, email: str) -> Principal | None:
        """The active staff user with this address as a principal; ``None`` when there is none."""
        ...


HostOpener = Callable[[], AbstractAsyncContextManager[CommandHost]]
_host_openers: list[HostOpener] = []


def use_host(opener: HostOpener) -> None:
    """Run the commands on the hosts ``opener`` opens (one per command; it waits for the command's jobs)."""
    _host_openers[:] = [opener]


class CommandFailed(Exception):
    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def parse_day(text: str, today: date) -> date:
    """``YYYY-MM-DD``, ``today`` or ``tomorrow``; ``InvalidInput`` naming DATE otherwise."""
    cleaned = text.strip().lower()
    if cleaned in RELATIVE_DAYS:
        return today + timedelta(days=RELATIVE_DAYS[cleaned])
    try:
        if len(cleaned) != 10:
            raise ValueError(cleaned)
        return date.fromisoformat(cleaned)
    except ValueError:
        raise InvalidInput(
            f"DATE: {text!r} is not a date; use YYYY-MM-DD (e.g. 2027-03-01), today or tomorrow", field="DATE"
        ) from None


def _check_day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        try:
            parse_day(value, date(2000, 1, 1))
        except InvalidInput as exc:
            raise click.BadParameter(exc.detail.removeprefix("DATE: ")) from exc
    return value


def today_in(context: AppContext, zone_name: str | None = None) -> date:
    """Today's date in ``zone_name`` (else the help desk's default zone) by the context's clock."""
    zone = zone_named(zone_name, context.settings.default_time_zone)
    return context.clock.now().astimezone(zone).date()


def _run(action: Callable[[CommandHost], Awaitable[list[str]]]) -> None:
    """Open a host, run ``action``, print its lines; errors become a message and an exit code."""
    if not _host_openers:
        raise click.ClickException("no help desk runtime is registered for the dispatch commands")
    opener = _host_openers[0]

    async def run() -> list[str]:
        async with opener() as host:
            return await action(host)

    try:
        lines = asyncio.run(run())
    except CommandFailed as exc:
        click.echo(f"Error: {exc.message}", err=True)
        raise click.exceptions.Exit(exc.exit_code) from exc
    except DomainError as exc:
        click.echo(f"Error: {exc.detail}", err=True)
        code = EXIT_BAD_INPUT if isinstance(exc, BAD_INPUT_ERRORS) else EXIT_FAILED
        raise click.exceptions.Exit(code) from exc
    except (SQLAlchemyError, OSError) as exc:
        click.echo(f"Error: the database cannot be used now: {type(exc).__name__}: {exc}", err=True)
        raise click.exceptions.Exit(EXIT_FAILED) from exc
    for line in lines:
        click.echo(line)


async def acting_dispatcher(host: CommandHost, email: str | None) -> Principal:
    """The staff user the command acts for; ``InvalidInput`` naming ``--as`` unless they may dispatch."""
    if not email:
        raise InvalidInput(
            "--as: name the staff user this command acts for (an admin, manager or agent) with --as EMAIL "
            "or HELPDESK_DISPATCHER",
            field="--as",
        )
    principal = await host.staff_principal(email)
    if principal is None:
        raise InvalidInput(f"--as: no active staff user has the address {email}", field="--as")
    if principal.role not in DISPATCHERS:
        raise InvalidInput(
            f"--as: {email} is a {principal.role}; dispatching needs an admin, manager or agent", field="--as"
        )
    return principal


_as_option = click.option(
    "--as",
    "acting_as",
    envvar="HELPDESK_DISPATCHER",
    metavar="EMAIL",
    help="The staff user (admin, manager or agent) the command acts for; default HELPDESK_DISPATCHER.",
)
_version_option = click.option(
    "--version", "version", type=click.IntRange(min=1), help="A plan version of the day (default: see above)."
)


@click.group("dispatch")
def dispatch_group() -> None:
    """Field service planning: plan a day, show and publish its plan, technicians' job lists.

    DATE is YYYY-MM-DD, today or tomorrow (in HELPDESK_DEFAULT_TIME_ZONE).
    """


@dispatch_group.command("plan")
@click.argument("day", metavar="DATE", callback=_check_day)
@click.option(
    "--time-limit",
    type=click.FloatRange(0, 300),
    default=10.0,
    show_default=True,
    help="Seconds the planner may search.",
)
@_as_option
def plan_command(day: str, time_limit: float, acting_as: str | None) -> None:
    """Plan DATE: every open work order onto the technicians, as a new plan version to review and publish.

    Prints each technician's visits in order (times in the technician's zone), the orders left unplanned
    with the reason, and the totals.
    """
    _run(lambda host: _plan(host, day, time_limit, acting_as))


async def _plan(host: CommandHost, day_text: str, time_limit: float, acting_as: str | None) -> list[str]:
    principal = await acting_dispatcher(host, acting_as)
    day = parse_day(day_text, today_in(host.context))
    service = PlanService(host.context)
    queued = await service.create_plan(principal, PlanCreate(day=day, time_limit_seconds=time_limit))
    # The plan job's own work, here; should a worker have claimed the plan first, this waits for it instead.
    await service.run_plan(queued.id)
    plan = await _finished(service, principal, queued.id, wait_seconds=time_limit * 2 + 120)
    if plan.status == PlanStatus.FAILED:
        raise CommandFailed(f"{plan_heading(plan)}: {plan.error}")
    return plan_lines(await day_board(host.context, principal, day, plan.id))


async def _finished(
    service: PlanService, principal: Principal, plan_id: int, wait_seconds: float
) -> PlanRead:
    deadline = time.monotonic() + wait_seconds
    while True:
        plan = await service.get_plan(principal, plan_id)
        if plan.status not in (PlanStatus.QUEUED, PlanStatus.RUNNING):
            return plan
        if time.monotonic() > deadline:
            raise CommandFailed(
                f"plan {plan.day} v{plan.version} is still {plan.status} after {wait_seconds:.0f} s; "
                f"see it later with: helpdesk dispatch show {plan.day}"
            )
        await asyncio.sleep(0.2)


@dispatch_group.command("show")
@click.argument("day", metavar="DATE", callback=_check_day)
@_version_option
@_as_option
def show_command(day: str, version: int | None, acting_as: str | None) -> None:
    """Print the current plan of DATE: the published one, else the newest (or --version)."""
    _run(lambda host: _show(host, day, version, acting_as))


async def _show(host: CommandHost, day_text: str, version: int | None, acting_as: str | None) -> list[str]:
    principal = await acting_dispatcher(host, acting_as)
    day = parse_day(day_text, today_in(host.context))
    plans = await PlanService(host.context).list_plans(principal, day)
    plan = _chosen(plans, day, version) if version else _current(plans, day)
    return plan_lines(await day_board(host.context, principal, day, plan.id))


def _current(plans: list[PlanRead], day: date) -> PlanRead:
    """The day's published plan, else its newest."""
    if not plans:
        raise CommandFailed(f"there is no plan for {day}; make one with: helpdesk dispatch plan {day}")
    return next((p for p in plans if p.status == PlanStatus.PUBLISHED), plans[0])


def _chosen(plans: list[PlanRead], day: date, version: int) -> PlanRead:
    found = next((p for p in plans if p.version == version), None)
    if found is None:
        known = ", ".join(f"v{p.version}" for p in plans) or "none"
        raise InvalidInput(f"--version: {day} has no plan v{version} (plans: {known})", field="--version")
    return found


@dispatch_group.command("publish")
@click.argument("day", metavar="DATE", callback=_check_day)
@_version_option
@_as_option
def publish_command(day: str, version: int | None, acting_as: str | None) -> None:
    """Publish the newest finished plan of DATE (or --version): work orders get their technician and arrival
    window, and each customer is mailed their window. Publishing what is published already changes nothing.
    """
    _run(lambda host: _publish(host, day, version, acting_as))


async def _publish(host: CommandHost, day_text: str, version: int | None, acting_as: str | None) -> list[str]:
    principal = await acting_dispatcher(host, acting_as)
    day = parse_day(day_text, today_in(host.context))
    plans = await PlanService(host.context).list_plans(principal, day)
    if version:
        plan = _chosen(plans, day, version)
    else:
        finished = [p for p in plans if p.status in (PlanStatus.DONE, PlanStatus.PUBLISHED)]
        if not finished:
            newest = f" (the newest, v{plans[0].version}, is {plans[0].status})" if plans else ""
            raise CommandFailed(f"{day} has no finished plan to publish{newest}")
        plan = finished[0]
    if plan.status == PlanStatus.PUBLISHED:
        return [f"{plan_heading(plan)} is published already; nothing changed."]
    published = await PlanEditService(host.context).publish(principal, plan.id)
    board = await day_board(host.context, principal, day, published.id)
    return [
        *plan_lines(board),
        f"Published: {len(published.visits)} visits; customers are mailed their window.",
    ]


@dispatch_group.command("jobs")
@click.argument("technician_email", metavar="TECHNICIAN_EMAIL")
@click.argument("day", metavar="[DATE]", required=False, callback=_check_day)
@click.option(
    "--as",
    "acting_as",
    metavar="EMAIL",
    help="A dispatcher reading the list (default: the technician's own view).",
)
def jobs_command(technician_email: str, day: str | None, acting_as: str | None) -> None:
    """Print a technician's job list for DATE (default: today in the technician's zone): jobs in planned
    order with the arrival window, address, contact, asset and parts."""
    _run(lambda host: _jobs(host, technician_email, day or "today", acting_as))


async def _jobs(host: CommandHost, email: str, day_text: str, acting_as: str | None) -> list[str]:
    staff = await host.staff_principal(email)
    if staff is None:
        raise InvalidInput(f"TECHNICIAN_EMAIL: no active staff user has the address {email}", field="email")
    async with host.context.sessions() as session:
        technician = await technician_of(session, staff)
    if technician is None:
        raise InvalidInput(f"TECHNICIAN_EMAIL: {email} is not a technician", field="email")
    reader = await acting_dispatcher(host, acting_as) if acting_as else staff
    day = parse_day(day_text, today_in(host.context, str(technician.hours.get("timezone") or "")))
    jobs = await JobListService(host.context, host.tickets).job_list(reader, day, technician.id)
    return job_lines(jobs)
