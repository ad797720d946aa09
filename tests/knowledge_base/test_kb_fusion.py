"""Min-max fusion of ranking stages and the fitting of its weights, on plain numbers."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge_base.fusion import (
    FitExample,
    fit_weights,
    fuse_min_max,
    mean_reciprocal_rank,
    min_max,
    reciprocal_rank,
)


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([2.0, 4.0, 6.0], [0.0, 0.5, 1.0]),
        ([0.9, 0.8], [1.0, 0.0]),
        ([0.5, 0.5, 0.5], [1.0, 1.0, 1.0]),
        ([0.3], [1.0]),
        ([], []),
    ],
)
def test_min_max_maps_the_worst_candidate_to_zero_and_the_best_to_one(
    scores: list[float], expected: list[float]
) -> None:
    assert min_max(np.array(scores)).tolist() == pytest.approx(expected)


def test_a_candidate_best_in_every_stage_fuses_to_exactly_one_and_all_lie_in_the_unit_interval() -> None:
    stages = np.array([[3.0, 1.0, 2.0], [0.9, 0.7, 0.8], [10.0, 0.0, 5.0]])
    fused = fuse_min_max(stages, (0.5, 0.3, 0.2))
    assert fused[0] == pytest.approx(1.0)
    assert fused[1] == pytest.approx(0.0)
    assert fused[2] == pytest.approx(0.5)


def test_fusion_weights_decide_between_stages_that_disagree() -> None:
    stages = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert fuse_min_max(stages, (0.7, 0.3)).argmax() == 0
    assert fuse_min_max(stages, (0.3, 0.7)).argmax() == 1


def test_fusion_needs_one_weight_per_stage() -> None:
    with pytest.raises(ValueError, match="one weight per stage"):
        fuse_min_max(np.zeros((2, 3)), (1.0,))


@pytest.mark.parametrize(
    ("scores", "answer", "expected"),
    [
        ([0.9, 0.5, 0.1], 0, 1.0),
        ([0.9, 0.5, 0.1], 2, 1 / 3),
        ([0.5, 0.5, 0.1], 1, 0.5),  # a tie counts against the answer
        (list(np.linspace(1.0, 0.0, 12)), 11, 0.0),  # below rank 10
    ],
)
def test_reciprocal_rank_of_the_answer(scores: list[float], answer: int, expected: float) -> None:
    assert reciprocal_rank(np.array(scores), answer) == pytest.approx(expected)


def _examples(right_stage: int, count: int) -> list[FitExample]:
    """Queries over three candidates whose answer is the best of ``right_stage`` and the worst of the other."""
    examples = []
    for number in range(count):
        answer = number % 3
        right = np.full(3, 0.2)
        right[answer] = 0.9
        wrong = np.full(3, 0.6)
        wrong[answer] = 0.1
        stages = np.vstack([right, wrong] if right_stage == 0 else [wrong, right])
        examples.append(FitExample(stages, answer))
    return examples


def test_mean_reciprocal_rank_averages_over_examples_and_is_zero_without_any() -> None:
    examples = _examples(right_stage=0, count=6)
    assert mean_reciprocal_rank(examples, (1.0, 0.0)) == pytest.approx(1.0)
    assert mean_reciprocal_rank(examples, (0.0, 1.0)) == pytest.approx(1 / 3)
    assert mean_reciprocal_rank([], (1.0, 0.0)) == 0.0


def test_fitting_moves_the_weight_to_the_stage_that_finds_the_answers() -> None:
    weights, score = fit_weights([_examples(right_stage=1, count=9)], (0.5, 0.5))
    assert weights[1] > weights[0]
    assert sum(weights) == pytest.approx(1.0, abs=1e-3)
    assert score == pytest.approx(1.0)


def test_fitting_scores_each_example_set_equally_and_is_deterministic() -> None:
    big, small = _examples(right_stage=0, count=30), _examples(right_stage=1, count=3)
    weights, score = fit_weights([big, small], (0.5, 0.5))
    assert (weights, score) == fit_weights([big, small], (0.5, 0.5))
    # The objective is the mean of the two sets' MRR, not the MRR of the 33 examples pooled.
    expected = (mean_reciprocal_rank(big, weights) + mean_reciprocal_rank(small, weights)) / 2
    assert score == pytest.approx(expected, abs=1e-3)
    assert score == pytest.approx((1 + 1 / 3) / 2, abs=1e-3)


def test_fitting_refuses_start_weights_that_are_not_a_distribution() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        fit_weights([_examples(0, 3)], (0.5, -0.1))
    with pytest.raises(ValueError, match="non-negative"):
        fit_weights([_examples(0, 3)], (0.0, 0.0))
