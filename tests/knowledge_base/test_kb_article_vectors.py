"""Held article embeddings and their three semantic scores, with small hand-made vectors."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge_base.article_vectors import ArticleEmbedding, ArticleVectors, whitening


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def embedding(whole: np.ndarray, *chunks: np.ndarray) -> ArticleEmbedding:
    return ArticleEmbedding(
        "whole text", whole, tuple(f"chunk {i}" for i in range(len(chunks))), np.stack(chunks)
    )


def base() -> ArticleVectors:
    vectors = ArticleVectors(3)
    vectors.put("cards", embedding(unit(1, 0, 0), unit(1, 0.1, 0), unit(0.9, 0, 0.3)))
    vectors.put("refunds", embedding(unit(0, 1, 0), unit(0, 1, 0.2), unit(0.2, 1, 0)))
    vectors.put("pins", embedding(unit(0, 0, 1), unit(0, 0.1, 1)))
    return vectors


def test_rows_are_cosine_to_the_whole_text_and_to_the_best_chunk() -> None:
    query = unit(0.9, 0, 0.3)
    scores = base().scores(query, ["cards", "refunds", "pins"])
    assert scores.shape == (3, 3)
    assert scores[0].tolist() == pytest.approx(
        [float(query @ unit(1, 0, 0)), 0.0, float(query @ unit(0, 0, 1))]
    )
    assert scores[1, 0] == pytest.approx(1.0, abs=1e-6)  # equal to one of the article's chunks
    assert scores[1, 2] == pytest.approx(float(query @ unit(0, 0.1, 1)), abs=1e-6)


def test_the_whitened_prototype_ranks_the_query_article_first() -> None:
    scores = base().scores(unit(0.1, 1, 0.1), ["cards", "refunds", "pins"])
    assert int(scores[2].argmax()) == 1
    assert np.all(np.abs(scores[2]) <= 1.0 + 1e-9)


def test_an_article_without_embedding_gets_the_lowest_score_of_each_row() -> None:
    scores = base().scores(unit(1, 0, 0), ["cards", "unknown", "pins"])
    assert scores[:, 1].tolist() == pytest.approx(scores[:, [0, 2]].min(axis=1).tolist())
    assert ArticleVectors(3).scores(unit(1, 0, 0), ["unknown"]).tolist() == [[0.0], [0.0], [0.0]]


def test_replacing_and_removing_articles_changes_what_is_scored() -> None:
    vectors = base()
    vectors.put("cards", embedding(unit(0, 1, 0), unit(0, 1, 0)))
    assert vectors.scores(unit(0, 1, 0), ["cards"])[1, 0] == pytest.approx(1.0, abs=1e-6)
    assert vectors.remove("pins")
    assert not vectors.remove("pins")
    assert "pins" not in vectors
    assert len(vectors) == 2


def test_running_sums_after_changes_equal_a_fresh_build_of_the_same_articles() -> None:
    rng = np.random.default_rng(3)

    def random_article() -> ArticleEmbedding:
        chunks = [unit(*rng.normal(size=4)) for _ in range(int(rng.integers(1, 5)))]
        return embedding(unit(*rng.normal(size=4)), *chunks)

    churned = ArticleVectors(4)
    final: dict[str, ArticleEmbedding] = {}
    # Enough removals to trigger compaction of the packed rows more than once.
    for step in range(3000):
        article_id = f"a{step % 40}"
        if step % 7 == 3:
            churned.remove(article_id)
            final.pop(article_id, None)
        else:
            final[article_id] = random_article()
            churned.put(article_id, final[article_id])
    fresh = ArticleVectors(4)
    for article_id, article in final.items():
        fresh.put(article_id, article)
    ids = sorted(final)
    query = unit(0.3, -0.2, 0.5, 0.1)
    # The whitening in use may be older in the churned store, so compare the parts it does not touch.
    assert churned.scores(query, ids)[:2] == pytest.approx(fresh.scores(query, ids)[:2])
    assert churned.within_scatter() == pytest.approx(fresh.within_scatter(), abs=1e-9)
    assert churned._count == fresh._count


def test_whitening_turns_the_shrunk_covariance_into_the_identity() -> None:
    rng = np.random.default_rng(0)
    spread = rng.normal(size=(50, 3)) * np.array([3.0, 1.0, 0.2])
    within = spread.T @ spread
    result = whitening(within, 50, shrinkage=0.5)
    covariance = within / 50
    shrunk = 0.5 * covariance + 0.5 * np.trace(covariance) / 3 * np.eye(3)
    assert result @ shrunk @ result == pytest.approx(np.eye(3), abs=1e-9)


def test_whitening_without_any_spread_is_the_identity() -> None:
    assert whitening(np.zeros((3, 3)), 4).tolist() == np.eye(3).tolist()


def test_an_embedding_needs_one_vector_per_chunk_of_the_same_size() -> None:
    with pytest.raises(ValueError, match="one chunk vector per chunk text"):
        ArticleEmbedding("t", unit(1, 0), ("a", "b"), np.stack([unit(1, 0)]))
    with pytest.raises(ValueError, match="differ in size"):
        ArticleEmbedding("t", unit(1, 0, 0), ("a",), np.stack([unit(1, 0)]))
