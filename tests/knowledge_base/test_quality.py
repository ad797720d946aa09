"""Quality regression on the shared Banking77 set (skipped when the data folder is absent)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge_base.importer import parse_file
from knowledge_base.index import KnowledgeIndex

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "kb" / "banking77"


@pytest.mark.skipif(not DATA.is_dir(), reason="shared relevance data not present")
def test_banking77_top1_and_top5_stay_above_the_agreed_floor() -> None:
    result = parse_file(DATA / "articles.jsonl")
    assert result.ok, result.errors[:3]
    index = KnowledgeIndex.build(result.records)
    top1 = top5 = total = 0
    with (DATA / "queries.jsonl").open(encoding="utf-8") as handle:
        for row in map(json.loads, handle):
            found = [hit.article_id for hit in index.search(row["text"], limit=5, min_confidence=0.0)]
            expected = set(row["expected"])
            total += 1
            top1 += bool(found) and found[0] in expected
            top5 += bool(expected.intersection(found))
    assert top1 / total >= 0.73
    assert top5 / total >= 0.92
