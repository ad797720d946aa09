"""``helpdesk kb ...`` commands."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("kb")
def kb_group() -> None:
    """Knowledge base: import, export."""


@kb_group.command("check")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def check(path: Path) -> None:
    """Validate a JSON Lines article file without importing it; exit 1 listing each bad line."""
    from knowledge_base.importer import parse_file

    result = parse_file(path)
    if result.errors:
        for error in result.errors:
            click.echo(f"{path}:{error.line}: {error.message}", err=True)
        raise SystemExit(1)
    click.echo(f"{path}: {len(result.records)} articles, no errors")
