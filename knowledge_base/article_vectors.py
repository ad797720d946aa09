"""Article embeddings held for search, and the three semantic scores of a query (pure numpy, no model).

An article is represented by vectors of three kinds (see ``knowledge_base.semantic`` for how they are
made): its whole text as one passage, each of its chunks (title, sentences) as a query-style sentence,
and a prototype, the mean of its chunk vectors seen through a whitening that the whole base shares.

Why three: on sentences held out of the articles' bodies each adds to the others. The whole text
carries the topic, the best chunk finds a question that paraphrases one example, and the prototype
(linear discriminant analysis with shrinkage: the spread of sentences *within* an article is divided
out) separates neighbouring articles whose sentences all look alike to the raw model.

Storage is append-only like ``knowledge_base.ranking.SparseBm25``: a put adds rows at the end, a
remove marks them dead, and the arrays are compacted once half the rows are dead. The whitening is
refitted lazily, before the first query after enough articles changed; between refits a new article's
prototype is computed with the current whitening.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
Float32Array = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]
_Array = TypeVar("_Array", bound=np.ndarray[Any, Any])

# Weight of the identity in the shrunk within-article covariance (0: plain LDA, 1: no whitening).
# 0.5 and 0.7 tied on held-out article sentences; 0.2 and below overfit the few sentences per article.
SHRINKAGE = 0.5
# Refit the whitening once this share of the articles changed since the last fit (and at least once).
REFIT_SHARE = 0.05
# Chunk rows of changed articles held before they are folded into the scatter (a few MB at 384 dims).
PENDING_ROWS = 4096


@dataclass(frozen=True, slots=True)
class ArticleEmbedding:
    """What the model made of one article; the texts are kept so an unchanged text is never re-embedded."""

    whole_text: str
    whole: Float32Array
    chunk_texts: tuple[str, ...]
    chunks: Float32Array

    def __post_init__(self) -> None:
        if self.chunks.ndim != 2 or self.chunks.shape[0] != len(self.chunk_texts) or not self.chunk_texts:
            raise ValueError("one chunk vector per chunk text, at least one chunk")
        if self.whole.shape != (self.chunks.shape[1],):
            raise ValueError("the whole-text vector and the chunk vectors differ in size")


def _unit(rows: FloatArray) -> FloatArray:
    norms = np.linalg.norm(rows, axis=-1, keepdims=True)
    unit: FloatArray = rows / np.maximum(norms, 1e-12)
    return unit


def whitening(within: FloatArray, count: int, shrinkage: float = SHRINKAGE) -> FloatArray:
    """Inverse square root of the shrunk within-article covariance ``within / count``.

    Shrinkage mixes in the identity scaled to the same average variance, so the result exists even
    when there are fewer sentences than dimensions; with no spread at all it is the identity.
    """
    dim = within.shape[0]
    covariance = within / max(count, 1)
    average_variance = float(np.trace(covariance)) / dim
    if average_variance <= 1e-12:
        return np.eye(dim)
    shrunk = (1.0 - shrinkage) * covariance + shrinkage * average_variance * np.eye(dim)
    values, vectors = np.linalg.eigh(shrunk)
    result: FloatArray = (vectors * (1.0 / np.sqrt(np.maximum(values, 1e-12)))) @ vectors.T
    return result


class ArticleVectors:
    """Embeddings by article id with the running sums that the whitening needs."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._reset()

    def _reset(self) -> None:
        dim = self.dim
        self._slot_of: dict[str, int] = {}
        self._embeddings: list[ArticleEmbedding | None] = []
        self._row_start: list[int] = []
        self._wholes = np.zeros((0, dim), dtype=np.float32)
        self._centroids = np.zeros((0, dim), dtype=np.float64)
        self._prototypes = np.zeros((0, dim), dtype=np.float32)
        self._prototype_ready = np.zeros(0, dtype=bool)
        self._rows = np.zeros((0, dim), dtype=np.float32)
        self._row_count = 0
        self._dead_rows = 0
        # Running sums over live chunk rows: their sum, their count and the within-article scatter.
        self._sum = np.zeros(dim, dtype=np.float64)
        self._count = 0
        self._within = np.zeros((dim, dim), dtype=np.float64)
        # Articles put or removed since the scatter was last brought up to date: (chunks, centroid, sign).
        self._pending: list[tuple[FloatArray, FloatArray, float]] = []
        self._pending_rows = 0
        self._mean = np.zeros(dim, dtype=np.float64)
        self._whiten: FloatArray | None = None
        self._changes_since_fit = 0

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._slot_of

    def get(self, article_id: str) -> ArticleEmbedding | None:
        slot = self._slot_of.get(article_id)
        return None if slot is None else self._embeddings[slot]

    def _reserve(self, slots: int, rows: int) -> None:
        if slots > self._wholes.shape[0]:
            capacity = max(slots, 2 * self._wholes.shape[0], 16)
            self._wholes = _grown(self._wholes, capacity)
            self._centroids = _grown(self._centroids, capacity)
            self._prototypes = _grown(self._prototypes, capacity)
            ready = np.zeros(capacity, dtype=bool)
            ready[: self._prototype_ready.size] = self._prototype_ready
            self._prototype_ready = ready
        if rows > self._rows.shape[0]:
            self._rows = _grown(self._rows, max(rows, 2 * self._rows.shape[0], 64))

    def put(self, article_id: str, embedding: ArticleEmbedding) -> None:
        """Hold ``embedding`` for ``article_id``, replacing the previous one."""
        self.remove(article_id)
        chunks = embedding.chunks.astype(np.float64)
        slot = len(self._embeddings)
        self._reserve(slot + 1, self._row_count + chunks.shape[0])
        self._embeddings.append(embedding)
        self._row_start.append(self._row_count)
        self._rows[self._row_count : self._row_count + chunks.shape[0]] = embedding.chunks
        self._row_count += chunks.shape[0]
        self._slot_of[article_id] = slot
        self._wholes[slot] = embedding.whole
        centroid = chunks.mean(axis=0)
        self._centroids[slot] = centroid
        self._account(chunks, centroid, +1.0)
        self._prototype_ready[slot] = False
        self._changes_since_fit += 1

    def remove(self, article_id: str) -> bool:
        """Forget an article; returns whether it was held."""
        slot = self._slot_of.pop(article_id, None)
        if slot is None:
            return False
        embedding = self._embeddings[slot]
        assert embedding is not None
        self._account(embedding.chunks.astype(np.float64), self._centroids[slot], -1.0)
        self._embeddings[slot] = None
        self._dead_rows += embedding.chunks.shape[0]
        self._changes_since_fit += 1
        if self._dead_rows > max(1024, self._row_count - self._dead_rows):
            self._compact()
        return True

    def _account(self, chunks: FloatArray, centroid: FloatArray, sign: float) -> None:
        self._sum += sign * chunks.sum(axis=0)
        self._count += int(sign) * chunks.shape[0]
        # The scatter is dim x dim: updated per article it cost more than the rest of a start-up that
        # loads stored vectors, so articles wait and are folded in together, in two matrix products.
        self._pending.append((chunks, centroid, sign))
        self._pending_rows += chunks.shape[0]
        if self._pending_rows >= PENDING_ROWS:
            self.within_scatter()

    def within_scatter(self) -> FloatArray:
        """The within-article scatter of the live articles: over each article, the sum of
        (v - c)(v - c)^T over its chunk vectors v around their centroid c, i.e. V^T V - n c c^T."""
        if self._pending:
            rows = np.vstack([chunks for chunks, _, _ in self._pending])
            row_signs = np.concatenate([np.full(chunks.shape[0], sign) for chunks, _, sign in self._pending])
            centroids = np.vstack([centroid for _, centroid, _ in self._pending])
            weights = np.array([sign * chunks.shape[0] for chunks, _, sign in self._pending])
            self._within += (rows * row_signs[:, None]).T @ rows - (
                centroids * weights[:, None]
            ).T @ centroids
            self._pending.clear()
            self._pending_rows = 0
        return self._within

    def _compact(self) -> None:
        # Re-pack the live articles into fresh arrays; the running sums are recomputed from them (which
        # also drops any rounding drift), the whitening in use is kept.
        live = [(article_id, self._embeddings[slot]) for article_id, slot in self._slot_of.items()]
        whiten, mean, changes = self._whiten, self._mean, self._changes_since_fit
        self._reset()
        for article_id, embedding in live:
            assert embedding is not None
            self.put(article_id, embedding)
        self._whiten, self._mean, self._changes_since_fit = whiten, mean, changes

    def _fit_if_due(self) -> None:
        due = self._whiten is None or self._changes_since_fit > max(1, REFIT_SHARE * len(self._slot_of))
        if due and self._count:
            self._mean = self._sum / self._count
            self._whiten = whitening(self.within_scatter(), self._count)
            self._prototype_ready[:] = False
            self._changes_since_fit = 0

    def _prototypes_of(self, slots: IntArray) -> Float32Array:
        assert self._whiten is not None
        missing = slots[~self._prototype_ready[slots]]
        if missing.size:
            projected = _unit((self._centroids[missing] - self._mean) @ self._whiten)
            self._prototypes[missing] = projected
            self._prototype_ready[missing] = True
        return self._prototypes[slots]

    def scores(self, query: Float32Array, article_ids: Sequence[str]) -> FloatArray:
        """Three rows over ``article_ids``: cosine to the whole text, best cosine to a chunk, and cosine
        to the whitened prototype. An article without an embedding gets the lowest value of each row
        (it ranks on its other stages), or 0 when no article has one.
        """
        result = np.zeros((3, len(article_ids)), dtype=np.float64)
        positions = [i for i, a in enumerate(article_ids) if a in self._slot_of]
        if not positions:
            return result
        self._fit_if_due()
        slots = np.array([self._slot_of[article_ids[i]] for i in positions], dtype=np.int64)
        query64 = query.astype(np.float64)
        starts = np.array([self._row_start[s] for s in slots], dtype=np.int64)
        counts = np.array([self._embeddings_rows(s) for s in slots], dtype=np.int64)
        rows = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
        chunk_cosines = self._rows[rows].astype(np.float64) @ query64
        best = np.maximum.reduceat(chunk_cosines, np.cumsum(counts) - counts)
        assert self._whiten is not None
        whitened = _unit(((query64 - self._mean) @ self._whiten)[None, :])[0]
        known = np.vstack(
            [
                self._wholes[slots].astype(np.float64) @ query64,
                best,
                self._prototypes_of(slots).astype(np.float64) @ whitened,
            ]
        )
        result[:] = known.min(axis=1, keepdims=True)
        result[:, positions] = known
        return result

    def _embeddings_rows(self, slot: int) -> int:
        embedding = self._embeddings[slot]
        assert embedding is not None
        return int(embedding.chunks.shape[0])


def _grown(array: _Array, capacity: int) -> _Array:
    grown = np.zeros((capacity, *array.shape[1:]), dtype=array.dtype)
    grown[: array.shape[0]] = array
    return grown  # type: ignore[return-value]  # same dtype and rank as the input
