"""``helpdesk mail ...`` commands."""

from __future__ import annotations

import click


@click.group("mail")
def mail_group() -> None:
    """E-mail channel: parse, ingest, listen."""
