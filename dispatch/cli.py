"""``helpdesk dispatch ...`` commands."""

from __future__ import annotations

import click


@click.group("dispatch")
def dispatch_group() -> None:
    """Field service planning."""
