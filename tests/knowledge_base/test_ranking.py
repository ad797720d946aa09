from __future__ import annotations

import numpy as np
import pytest

from knowledge_base.ranking import (
    Bm25Params,
    SparseBm25,
    coverage,
    expand_unknown_terms,
    fuse,
    normalize_scores,
    reciprocal_rank_fusion,
    title_similarity,
)


def test_bm25_prefers_the_document_with_the_rare_term() -> None:
    engine = SparseBm25(Bm25Params(1.2, 0.75))
    common = engine.add(["card", "card", "pay"])
    rare = engine.add(["card", "refund"])
    scores, _ = engine.scores({"card": 1.0, "refund": 1.0})
    assert scores[rare] > scores[common] > 0


def test_bm25_score_matches_the_textbook_formula() -> None:
    engine = SparseBm25(Bm25Params(1.2, 0.75))
    engine.add(["a", "b"])
    slot = engine.add(["a", "a", "c", "d"])
    scores, matched = engine.scores({"a": 1.0})
    idf = np.log(1 + (2 - 2 + 0.5) / (2 + 0.5))
    norm = 1.2 * (1 - 0.75 + 0.75 * 4 / 3)
    assert scores[slot] == pytest.approx(idf * 2 * 2.2 / (2 + norm))
    assert matched[slot] == pytest.approx(idf)


def test_removed_documents_score_zero_and_leave_document_frequency() -> None:
    engine = SparseBm25()
    first = engine.add(["printer", "jam"])
    second = engine.add(["printer", "toner"])
    engine.remove(first, ["printer", "jam"])
    scores, matched = engine.scores({"printer": 1.0, "jam": 1.0})
    assert scores[first] == 0.0
    assert matched[first] == 0.0
    assert scores[second] > 0.0
    assert engine.document_frequency("printer") == 1
    assert "jam" not in engine
    assert len(engine) == 1


def test_compaction_after_many_removals_keeps_scores() -> None:
    engine = SparseBm25()
    slots = [engine.add(["filler", f"t{i}"]) for i in range(1500)]
    keep = engine.add(["filler", "keep"])
    for i, slot in enumerate(slots):
        engine.remove(slot, ["filler", f"t{i}"])
    scores, _ = engine.scores({"keep": 1.0, "filler": 1.0})
    assert np.flatnonzero(scores).tolist() == [keep]


def test_misspelt_long_terms_expand_to_close_vocabulary_terms_but_short_ones_and_codes_do_not() -> None:
    vocabulary = ["receiv", "printer", "store", "e-1042"]
    expansions = expand_unknown_terms(
        ["reciev", "printr", "score", "e-1043", "printer"], vocabulary, set(vocabulary)
    )
    assert [term for term, _ in expansions["reciev"]] == ["receiv"]
    assert 0.8 <= expansions["reciev"][0][1] < 1.0
    assert [term for term, _ in expansions["printr"]] == ["printer"]
    assert expansions["score"] == []
    assert expansions["e-1043"] == []
    assert expansions["printer"] == [("printer", 1.0)]


def test_fusion_is_a_weighted_sum_of_max_normalised_stages() -> None:
    first = np.array([2.0, 1.0, 0.0])
    second = np.array([0.0, 5.0, 10.0])
    fused = fuse([first, second], [0.75, 0.25])
    assert fused == pytest.approx([0.75, 0.375 + 0.125, 0.25])
    assert normalize_scores(np.zeros(3)).tolist() == [0.0, 0.0, 0.0]


def test_fusion_gives_one_to_a_candidate_best_in_every_stage() -> None:
    fused = fuse([np.array([3.0, 1.0]), np.array([0.4, 0.1])], [0.5, 0.5])
    assert fused[0] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="one weight per stage"):
        fuse([np.array([1.0])], [0.5, 0.5])


def test_reciprocal_rank_fusion_rewards_agreement() -> None:
    fused = reciprocal_rank_fusion([[1, 2, 3], [2, 1, 3]], k=60)
    assert fused[1] == pytest.approx(fused[2]) == pytest.approx(1 / 61 + 1 / 62)
    assert fused[3] < fused[1]


def test_coverage_is_the_share_of_query_idf_found() -> None:
    assert coverage(np.array([3.0, 0.0, 6.0]), 6.0).tolist() == [0.5, 0.0, 1.0]
    assert coverage(np.array([1.0]), 0.0).tolist() == [0.0]


def test_title_similarity_finds_codes_and_misspelt_product_names() -> None:
    titles = ["printer shows error e-1042", "reset your password", "thinkpad x1 battery"]
    by_code = title_similarity("e-1042", titles)
    assert by_code.argmax() == 0
    assert by_code[0] == pytest.approx(1.0)
    by_name = title_similarity("thinkpad x1 batery", titles)
    assert by_name.argmax() == 2
    assert title_similarity("zzz", titles).tolist() == [0.0, 0.0, 0.0]
