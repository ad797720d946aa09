"""``helpdesk kb ...`` commands."""

from __future__ import annotations

import click


@click.group("kb")
def kb_group() -> None:
    """Knowledge base: import, export."""
