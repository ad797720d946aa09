"""``helpdesk`` command line: serve, worker, db, demo, user, and the domains' own groups (sla, kb, mail, dispatch, reports)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import click

from helpdesk.core.settings import Settings


@click.group()
def main() -> None:
    """Help desk and field service."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="API processes.")
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
def serve(host: str, port: int, workers: int, reload: bool) -> None:
    """Run the web application and API."""
    import uvicorn

    uvicorn.run(
        "helpdesk.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        log_level="info",
        access_log=False,
    )


@main.command()
def worker() -> None:
    """Run the arq background worker (needs HELPDESK_REDIS_URL)."""
    from arq.connections import RedisSettings
    from arq.worker import run_worker

    from helpdesk.worker import WorkerSettings

    settings = Settings.from_env()
    if not settings.redis_url:
        raise click.UsageError(
            "HELPDESK_REDIS_URL is not set: without Redis, background jobs run inside `helpdesk serve`."
        )
    run_worker(WorkerSettings, redis_settings=RedisSettings.from_dsn(settings.redis_url))  # type: ignore[arg-type]


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="heads", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations to HELPDESK_DATABASE_URL."""
    from helpdesk.core.migrate import upgrade

    upgrade(Settings.from_env().database_url, revision)
    click.echo(f"database at {revision}")


@main.group()
def user() -> None:
    """Staff accounts."""


@user.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(["admin", "manager", "agent", "technician"]), default="agent")
@click.password_option()
def user_create(email: str, name: str, role: str, password: str) -> None:
    """Create a staff user with a password."""
    from helpdesk.accounts.service import create_user_cli

    user_id = asyncio.run(
        create_user_cli(Settings.from_env(), email=email, name=name, role=role, password=password)
    )
    click.echo(f"created {role} {email} (id {user_id})")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Only load the demo data.")
def demo(host: str, port: int, no_serve: bool) -> None:
    """Create demo data (organisation, staff of every role, customers, tickets), then serve."""
    from helpdesk.core.migrate import upgrade
    from helpdesk.demo import load_demo

    settings = Settings.from_env()
    upgrade(settings.database_url)
    accounts = asyncio.run(load_demo(settings))
    click.echo("Demo accounts (e-mail / password):")
    for line in accounts:
        click.echo(f"  {line}")
    if no_serve:
        return
    base = f"http://{host}:{port}"
    os.environ.setdefault("HELPDESK_BASE_URL", base)
    click.echo(
        f"\nHelp desk running at {base}/  (customer portal)\n"
        f"  staff sign-in:  {base}/login  (agents land on /agent, managers on /manager, technicians on /technician)\n"
        f"  API docs:       {base}/schema\n"
    )
    serve.callback(host=host, port=port, workers=1, reload=False)  # type: ignore[misc]


def _register_domain_commands() -> None:
    from dispatch.cli import dispatch_group, use_host
    from helpdesk.channels.email.cli import mail_group
    from helpdesk.field.cli_host import open_command_host
    from helpdesk.reports.cli import reports_group
    from knowledge_base.cli import kb_group
    from sla.cli import sla_group

    for group in (sla_group, kb_group, mail_group, dispatch_group, reports_group):
        main.add_command(group)
    # dispatch does not import the help desk: its commands get the runtime from here.
    use_host(open_command_host)


_register_domain_commands()

PROJECT_ROOT = Path(__file__).resolve().parent.parent
