"""``helpdesk sla ...`` commands."""

from __future__ import annotations

import click


@click.group("sla")
def sla_group() -> None:
    """SLA calendars and deadlines."""
