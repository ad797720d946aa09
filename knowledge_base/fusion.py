"""Pure fusion of ranking stages and the fitting of their weights (numpy only, no I/O).

A stage is one score per candidate article (BM25 over words, cosine to an embedding, ...). Raw stage
scores are not comparable with each other, so each is scaled to [0, 1] over the candidates of the query
(``min_max``) and the scaled stages are summed with weights (``fuse_min_max``). The weights are fitted
(``fit_weights``) on examples whose right answer is known: in this project, sentences held out of the
articles' own bodies, never the customer queries a benchmark is scored on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def min_max(scores: FloatArray) -> FloatArray:
    """Scale scores to [0, 1] over the candidates: the best becomes 1, the worst 0. When all are equal
    (a single candidate, or a stage that cannot tell them apart) every one is the best and gets 1."""
    if scores.size == 0:
        return np.zeros(0, dtype=np.float64)
    low, high = float(scores.min()), float(scores.max())
    if high - low <= 1e-12:
        return np.ones(scores.shape, dtype=np.float64)
    return (scores - low) / (high - low)


def fuse_min_max(stages: FloatArray, weights: Sequence[float] | FloatArray) -> FloatArray:
    """Weighted sum of min-max scaled stages; ``stages`` has one row per stage, one column per candidate.

    Guarantees: with non-negative weights summing to 1 every result lies in [0, 1], and a candidate that
    is best in every stage scores exactly 1.
    """
    if stages.ndim != 2 or stages.shape[0] != len(weights):
        raise ValueError("one weight per stage row")
    fused = np.zeros(stages.shape[1], dtype=np.float64)
    for stage, weight in zip(stages, weights, strict=True):
        if weight:
            fused += weight * min_max(stage)
    return fused


@dataclass(frozen=True, slots=True)
class FitExample:
    """One labelled query: its stage scores over the candidates (stages × candidates) and the column of
    the right answer."""

    stages: FloatArray
    answer: int


def reciprocal_rank(scores: FloatArray, answer: int, depth: int = 10) -> float:
    """1 / rank of ``answer`` when ``scores`` are sorted descending (ties count against the answer),
    0 below ``depth``."""
    rank = int(np.count_nonzero(scores >= scores[answer]))
    return 1.0 / rank if rank <= depth else 0.0


def mean_reciprocal_rank(examples: Sequence[FitExample], weights: Sequence[float] | FloatArray) -> float:
    """MRR@10 of ``fuse_min_max`` with ``weights`` over ``examples`` (0 for no examples)."""
    if not examples:
        return 0.0
    return sum(reciprocal_rank(fuse_min_max(e.stages, weights), e.answer) for e in examples) / len(examples)


def fit_weights(
    example_sets: Sequence[Sequence[FitExample]],
    start: Sequence[float],
    *,
    steps: Sequence[float] = (0.05, 0.02),
    rounds: int = 10,
) -> tuple[tuple[float, ...], float]:
    """Coordinate ascent on the simplex: nudge one weight at a time by ± each step (renormalising to
    sum 1, never below 0) and keep a change only if the objective rises. The objective is the mean over
    ``example_sets`` of each set's MRR@10, so a large set does not drown a small one.

    Returns the weights (rounded to 3 decimals) and their objective. Deterministic: same input, same
    result.
    """
    if not start or min(start) < 0 or sum(start) <= 0:
        raise ValueError("start weights must be non-negative with a positive sum")

    def objective(weights: FloatArray) -> float:
        scores = [mean_reciprocal_rank(examples, weights) for examples in example_sets if examples]
        return sum(scores) / len(scores) if scores else 0.0

    weights = np.asarray(start, dtype=np.float64) / sum(start)
    best = objective(weights)
    for _ in range(rounds):
        improved = False
        for position in range(weights.size):
            for step in steps:
                for delta in (step, -step):
                    candidate = weights.copy()
                    candidate[position] = max(0.0, candidate[position] + delta)
                    if candidate.sum() <= 0:
                        continue
                    candidate /= candidate.sum()
                    score = objective(candidate)
                    if score > best + 1e-9:
                        weights, best, improved = candidate, score, True
        if not improved:
            break
    rounded = tuple(round(float(w), 3) for w in weights)
    return rounded, best
