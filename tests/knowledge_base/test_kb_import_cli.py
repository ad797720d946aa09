"""``helpdesk kb import`` / ``export``: all or nothing, per-line reports, and ids that update instead of duplicating."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from helpdesk.cli import main
from knowledge_base.live_index import live_index
from knowledge_base.models import KbArticle, KbArticleVersion

pytestmark = pytest.mark.integration

GOOD = [
    {
        "id": "E-1",
        "title": "Printer jams",
        "body": "Open the tray and remove the paper.",
        "tags": ["printer"],
    },
    {"id": "R-1", "title": "Принтер не печатает", "body": "Проверьте бумагу.", "language": "ru"},
    {"id": "I-1", "title": "VPN token", "body": "Reset it in the console.", "visibility": "internal"},
]


def write(path: Path, rows: list[Any]) -> Path:
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows) + "\n"
    )
    return path


def run(runtime: Any, *args: str) -> Any:
    runner = CliRunner()
    return runner.invoke(main, ["kb", *args], env={"HELPDESK_DATABASE_URL": runtime.settings.database_url})


async def counts(runtime: Any) -> tuple[int, int]:
    async with runtime.sessions() as session:
        articles = await session.scalar(select(func.count()).select_from(KbArticle))
        versions = await session.scalar(select(func.count()).select_from(KbArticleVersion))
    return int(articles or 0), int(versions or 0)


async def test_a_file_with_bad_lines_is_reported_by_line_and_nothing_is_imported(runtime, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = write(
        tmp_path / "bad.jsonl",
        [
            GOOD[0],
            "{not json",
            {"id": "X", "title": "No body"},
            {"id": "Y", "title": "T", "body": "B", "language": "de"},
            {**GOOD[1], "id": "E-1"},
        ],
    )
    result = await asyncio.to_thread(run, runtime, "import", str(path))
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith(str(path))]
    assert [line.split(":")[1] for line in lines] == ["2", "3", "4", "5"]
    assert "duplicate id 'E-1' (first on line 1)" in lines[-1]
    assert "nothing imported" in result.output
    assert await counts(runtime) == (0, 0)


async def test_importing_the_same_file_twice_updates_instead_of_duplicating(
    runtime, client, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path / "articles.jsonl", GOOD)
    first = await asyncio.to_thread(run, runtime, "import", str(path))
    assert first.exit_code == 0, first.output
    assert "3 created, 0 updated, 0 unchanged" in first.output
    again = await asyncio.to_thread(run, runtime, "import", str(path))
    assert "0 created, 0 updated, 3 unchanged" in again.output
    assert await counts(runtime) == (3, 3)

    write(path, [{**GOOD[0], "body": "Open the tray, remove the paper, close the tray."}, *GOOD[1:]])
    changed = await asyncio.to_thread(run, runtime, "import", str(path))
    assert "0 created, 1 updated, 2 unchanged" in changed.output
    assert await counts(runtime) == (3, 4)

    # The API process sees the imported articles (the command is another process: the API's index
    # notices within its freshness window, zero here); the internal one stays hidden from the public.
    live_index(runtime).ttl_seconds = 0
    found = await client.get("/api/v1/kb/suggest", params={"q": "printer jams tray"})
    assert [s["title"] for s in found.json()] == ["Printer jams"]
    assert (await client.get("/api/v1/kb/suggest", params={"q": "VPN token"})).json() == []

    exported = tmp_path / "out.jsonl"
    assert (await asyncio.to_thread(run, runtime, "export", str(exported))).exit_code == 0
    rows = [json.loads(line) for line in exported.read_text().splitlines()]
    assert [(r["id"], r["language"], r["visibility"]) for r in rows] == [
        ("E-1", "en", "public"),
        ("R-1", "ru", "public"),
        ("I-1", "en", "internal"),
    ]
    assert (await asyncio.to_thread(run, runtime, "import", str(exported))).output.endswith(
        "0 created, 0 updated, 3 unchanged\n"
    )
