"""The optional semantic stage's fusion, with a fake embedding model (the real one is an optional extra)."""

from __future__ import annotations

import numpy as np

from knowledge_base.index import Hit
from knowledge_base.semantic import SemanticStage


class FakeModel:
    """Embeds a text as the unit vector of the topic words it names ("card" / "refund" / "pin")."""

    TOPICS = ("card", "refund", "pin")

    def _vector(self, text: str) -> np.ndarray:
        vector = np.array([text.lower().count(topic) for topic in self.TOPICS], dtype=np.float32) + 0.01
        return vector / np.linalg.norm(vector)

    def query(self, text: str) -> np.ndarray:
        return self._vector(text)

    def passage(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._vector(text) for text in texts])


def stage(weight: float = 0.5) -> SemanticStage:
    semantic = SemanticStage(FakeModel(), weight=weight)
    for article_id, text in (("a", "card card"), ("b", "refund refund"), ("c", "pin")):
        [vector] = semantic.encode_articles([text])
        semantic.store(article_id, vector)
    return semantic


def test_semantic_similarity_reorders_the_lexical_candidates() -> None:
    hits = [Hit("a", 1.0), Hit("b", 0.9), Hit("c", 0.2)]
    fused = stage().fuse(stage().encode_query("where is my refund"), hits, limit=3)
    assert [hit.article_id for hit in fused] == ["b", "a", "c"]
    assert all(0.0 <= hit.score <= 1.0 for hit in fused)


def test_weight_zero_keeps_the_lexical_order_and_the_limit_applies() -> None:
    hits = [Hit("a", 1.0), Hit("b", 0.9), Hit("c", 0.2)]
    fused = stage(weight=0.0).fuse(stage().encode_query("refund"), hits, limit=2)
    assert [hit.article_id for hit in fused] == ["a", "b"]


def test_an_article_not_embedded_yet_keeps_its_lexical_score_and_nothing_in_gives_nothing_out() -> None:
    semantic = stage()
    semantic.forget("c")
    fused = semantic.fuse(semantic.encode_query("pin"), [Hit("c", 1.0), Hit("a", 0.5)], limit=5)
    assert fused[0] == Hit("c", 1.0)
    assert semantic.fuse(semantic.encode_query("pin"), [], limit=5) == []
