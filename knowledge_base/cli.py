"""``helpdesk kb ...`` commands."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from knowledge_base.importer import ArticleRecord


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


@kb_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_articles(path: Path) -> None:
    """Import a JSON Lines article file into HELPDESK_DATABASE_URL: all or nothing (any bad line is
    listed and nothing is imported); an id seen before updates that article instead of adding one."""
    from knowledge_base.importer import parse_file

    result = parse_file(path)
    if result.errors:
        for error in result.errors:
            click.echo(f"{path}:{error.line}: {error.message}", err=True)
        click.echo(f"{len(result.errors)} bad line(s): nothing imported", err=True)
        raise SystemExit(1)
    created, updated = asyncio.run(_import(result.records))
    unchanged = len(result.records) - created - updated
    click.echo(f"{path}: {created} created, {updated} updated, {unchanged} unchanged")


async def _import(records: list[ArticleRecord]) -> tuple[int, int]:
    from helpdesk.core.settings import Settings
    from knowledge_base.context import command_context
    from knowledge_base.transfer import TransferService

    async with command_context(Settings.from_env()) as context:
        with click.progressbar(length=len(records), label="importing", file=sys.stderr) as bar:
            done = 0

            def advance(count: int) -> None:
                nonlocal done
                bar.update(count - done)
                done = count

            return await TransferService(context).import_records(records, progress=advance)


@kb_group.command("export")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def export_articles(path: Path) -> None:
    """Write every article to a JSON Lines file that ``helpdesk kb import`` reads back."""
    count = asyncio.run(_export(path))
    click.echo(f"{path}: {count} articles")


async def _export(path: Path) -> int:
    from helpdesk.core.settings import Settings
    from knowledge_base.context import command_context
    from knowledge_base.transfer import TransferService

    async with command_context(Settings.from_env()) as context:
        rows = list(await TransferService(context).export())
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return len(rows)
