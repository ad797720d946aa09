"""Pure ranking core: an incremental BM25 engine, a fuzzy stage, fusion and a confidence cut-off.

Why our own sparse BM25 rather than ``bm25s``: the API changes one article at a time, and ``bm25s``
builds an immutable index (any add, edit or delete means re-indexing the whole corpus; measured
≈ 2.6 s for 100,000 synthetic articles). Here a posting list is a pair of Python lists, compiled
to numpy arrays the first time a query touches the term after a change; deletes are tombstones with
exact document-frequency bookkeeping, and posting lists are compacted when half the slots are dead.
Query cost is proportional to the postings of the query's terms (``np.bincount`` over them), which
is the same work ``bm25s`` does for its sparse scoring.

Nothing here knows about articles or visibility: ``knowledge_base.index`` maps slots to articles.
"""

from __future__ import annotations

import math
from array import array
from collections import Counter
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Bm25Params:
    """BM25 saturation ``k1`` and length normalisation ``b``."""

    k1: float = 1.2
    b: float = 0.75


@dataclass(slots=True)
class _Postings:
    # array.array keeps a posting at 8 bytes instead of two boxed Python objects: the character
    # n-gram stage of a 100,000-article base holds tens of millions of postings.
    slots: array[int] = field(default_factory=lambda: array("i"))
    tfs: array[float] = field(default_factory=lambda: array("f"))
    alive_df: int = 0
    compiled: tuple[IntArray, FloatArray] | None = None

    def arrays(self) -> tuple[IntArray, FloatArray]:
        if self.compiled is None:
            self.compiled = (
                np.frombuffer(self.slots, dtype=np.int32).astype(np.int64),
                np.frombuffer(self.tfs, dtype=np.float32).astype(np.float64),
            )
        return self.compiled


class SparseBm25:
    """An inverted index of bags of terms ("documents") addressed by integer slots.

    ``add`` returns a new slot; ``remove`` retires it for good (slots are never reused, so a caller's
    slot → object table stays valid). The engine does not keep each document's terms (that would
    double the memory), so ``remove`` takes them back from the caller, who can re-derive them.
    """

    def __init__(self, params: Bm25Params | None = None) -> None:
        self.params = params or Bm25Params()
        self._postings: dict[str, _Postings] = {}
        self._lengths = array("f")
        self._alive = bytearray()
        self._alive_count = 0
        self._dead_since_compaction = 0
        self._alive_length_sum = 0.0
        self._norm_cache: FloatArray | None = None
        self._vocabulary_cache: list[str] | None = None

    def __len__(self) -> int:
        return self._alive_count

    def __contains__(self, term: object) -> bool:
        postings = self._postings.get(term) if isinstance(term, str) else None
        return postings is not None and postings.alive_df > 0

    @property
    def slot_count(self) -> int:
        """Number of slots ever issued; score arrays have this length."""
        return len(self._alive)

    def add(self, terms: Iterable[str]) -> int:
        """Index a bag of terms and return its new slot."""
        counts = Counter(terms)
        slot = len(self._alive)
        self._alive.append(1)
        length = float(sum(counts.values()))
        self._lengths.append(length)
        self._alive_count += 1
        self._alive_length_sum += length
        for term, tf in counts.items():
            postings = self._postings.get(term)
            if postings is None:
                postings = self._postings[term] = _Postings()
                self._vocabulary_cache = None
            postings.slots.append(slot)
            postings.tfs.append(float(tf))
            postings.alive_df += 1
            postings.compiled = None
        self._norm_cache = None
        return slot

    def remove(self, slot: int, terms: Iterable[str]) -> None:
        """Retire ``slot``, whose bag was ``terms`` (as given to ``add``); a no-op if already removed."""
        if not self._alive[slot]:
            return
        self._alive[slot] = 0
        self._alive_count -= 1
        self._alive_length_sum -= self._lengths[slot]
        for term in set(terms):
            postings = self._postings.get(term)
            if postings is not None:
                postings.alive_df -= 1
                if postings.alive_df == 0:
                    self._vocabulary_cache = None
        self._dead_since_compaction += 1
        self._norm_cache = None
        if self._dead_since_compaction > max(1000, self._alive_count):
            self._compact()

    def _compact(self) -> None:
        # Drop dead slots from posting lists so queries stop paying for them.
        alive = np.frombuffer(self._alive, dtype=np.uint8).astype(bool)
        for term in list(self._postings):
            postings = self._postings[term]
            if postings.alive_df <= 0:
                del self._postings[term]
                continue
            slots, tfs = postings.arrays()
            keep = alive[slots]
            postings.slots = array("i", slots[keep].tolist())
            postings.tfs = array("f", tfs[keep].tolist())
            postings.compiled = None
        self._vocabulary_cache = None
        self._dead_since_compaction = 0

    def document_frequency(self, term: str) -> int:
        """Number of live documents containing ``term``."""
        postings = self._postings.get(term)
        return postings.alive_df if postings else 0

    def idf(self, term: str) -> float:
        """BM25 (Lucene) inverse document frequency; 0 for a term in no live document."""
        df = self.document_frequency(term)
        if df <= 0:
            return 0.0
        return math.log(1.0 + (self._alive_count - df + 0.5) / (df + 0.5))

    def max_idf(self) -> float:
        """The idf a term present in exactly one document would have (used for unknown terms)."""
        return math.log(1.0 + (self._alive_count - 0.5) / 1.5) if self._alive_count else 0.0

    def vocabulary(self) -> list[str]:
        """All terms with at least one live posting (cached until the vocabulary changes)."""
        if self._vocabulary_cache is None:
            self._vocabulary_cache = [t for t, p in self._postings.items() if p.alive_df > 0]
        return self._vocabulary_cache

    def _norms(self) -> FloatArray:
        if self._norm_cache is None:
            lengths = np.frombuffer(self._lengths, dtype=np.float32).astype(np.float64)
            average = self._alive_length_sum / self._alive_count if self._alive_count else 1.0
            k1, b = self.params.k1, self.params.b
            self._norm_cache = k1 * (1.0 - b + b * lengths / max(average, 1e-9))
        return self._norm_cache

    def scores(
        self, query: Mapping[str, float], weak: Container[str] = frozenset()
    ) -> tuple[FloatArray, FloatArray]:
        """BM25 score of every slot for ``query`` (term → query-side weight, usually 1.0), and the
        query's idf mass, ``weak`` terms left out, that each slot contains (the numerator of
        ``coverage``).

        Guarantees: both arrays have ``slot_count`` entries; removed slots and slots sharing no term
        with the query get exactly 0 in both.
        """
        result: FloatArray = np.zeros(self.slot_count, dtype=np.float64)
        matched: FloatArray = np.zeros(self.slot_count, dtype=np.float64)
        if not self._alive_count:
            return result, matched
        norms = self._norms()
        k1 = self.params.k1
        for term, weight in query.items():
            postings = self._postings.get(term)
            if postings is None or postings.alive_df <= 0 or weight == 0.0:
                continue
            slots, tfs = postings.arrays()
            idf = self.idf(term)
            contribution = (weight * idf * (k1 + 1.0)) * tfs / (tfs + norms[slots])
            result += np.bincount(slots, weights=contribution, minlength=self.slot_count)
            if term not in weak:
                matched[slots] += weight * idf
        if self._dead_since_compaction:
            dead = np.frombuffer(self._alive, dtype=np.uint8) == 0
            result[dead] = 0.0
            matched[dead] = 0.0
        return result, matched


def expand_unknown_terms(
    terms: Iterable[str],
    vocabulary: Sequence[str],
    known: Container[str],
    *,
    cutoff: float = 80.0,
    min_length: int = 6,
) -> dict[str, list[tuple[str, float]]]:
    """Map each distinct query term to the index terms that stand for it, with a weight in (0, 1].

    A known term stands for itself (weight 1). A term missing from the index is the misspelling
    stage: its closest vocabulary spellings by rapidfuzz ``ratio`` ≥ ``cutoff`` stand for it,
    weighted by similarity ("recieved" → "receiv", "принтр" → "принтер"). Terms shorter than
    ``min_length`` characters and codes with digits are never guessed, because a near miss there is
    another word ("score" is one letter from "store"); they map to an empty list.
    """
    expansions: dict[str, list[tuple[str, float]]] = {}
    for term in terms:
        if term in expansions:
            continue
        if term in known:
            expansions[term] = [(term, 1.0)]
        elif len(term) < min_length or any(char.isdigit() for char in term):
            expansions[term] = []
        else:
            found = process.extract(term, vocabulary, scorer=fuzz.ratio, score_cutoff=cutoff, limit=2)
            expansions[term] = [(candidate, similarity / 100.0) for candidate, similarity, _ in found]
    return expansions


def normalize_scores(scores: FloatArray) -> FloatArray:
    """Scale scores into [0, 1] by the best one; an all-zero array stays zero."""
    best = float(scores.max()) if scores.size else 0.0
    if best <= 0.0:
        return np.zeros_like(scores)
    return scores / best


def fuse(stages: Sequence[FloatArray], weights: Sequence[float]) -> FloatArray:
    """Weighted sum of max-normalised stage scores (all arrays over the same candidates).

    Guarantees: with non-negative weights summing to 1 the result lies in [0, 1], and a candidate
    that is best in every stage scores exactly 1.
    """
    if len(stages) != len(weights):
        raise ValueError("one weight per stage")
    fused: FloatArray = np.zeros_like(stages[0]) if stages else np.zeros(0)
    for stage, weight in zip(stages, weights, strict=True):
        fused += weight * normalize_scores(stage)
    return fused


def reciprocal_rank_fusion(rankings: Sequence[Sequence[int]], k: float = 60.0) -> dict[int, float]:
    """Classic RRF: each ranking gives ``1 / (k + rank)`` (rank from 1) to each candidate it lists."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, candidate in enumerate(ranking, start=1):
            fused[candidate] = fused.get(candidate, 0.0) + 1.0 / (k + rank)
    return fused


def title_similarity(query: str, titles: Sequence[str], *, cutoff: float = 60.0) -> FloatArray:
    """Fuzzy match of a normalised query against normalised titles, in [0, 1].

    ``token_set_ratio`` rewards a title whose words all appear in the query (short titles, product
    names); ``partial_ratio`` finds a short query such as an error code or a misspelt product name
    inside a longer title. Scores under ``cutoff`` count as 0 so noise does not add up.
    """
    if not titles:
        return np.zeros(0, dtype=np.float64)
    token_set = process.cdist([query], titles, scorer=fuzz.token_set_ratio, score_cutoff=cutoff)[0]
    if len(query) <= 40:
        partial = process.cdist([query], titles, scorer=fuzz.partial_ratio, score_cutoff=cutoff)[0]
        token_set = np.maximum(token_set, partial)
    return np.asarray(token_set, dtype=np.float64) / 100.0


def coverage(matched_idf: FloatArray, query_idf_total: float) -> FloatArray:
    """Share of the query's idf mass that each candidate contains: 1 when every informative term is
    there, 0 when none is.

    This is the confidence of a suggestion: BM25 scores are not comparable across queries, but "the
    article contains the words that make this question specific" is. ``query_idf_total`` must count
    words the index has never seen at the highest idf, so an off-topic question ("weather in Paris")
    keeps a low coverage even when one common word matches.
    """
    if query_idf_total <= 0.0:
        return np.zeros_like(matched_idf)
    return np.clip(matched_idf / query_idf_total, 0.0, 1.0)


@dataclass(frozen=True, slots=True)
class RankingParams:
    """Every knob of the hybrid ranker. The stage weights were chosen on article-derived splits only
    (5 folds of sentences held out of article bodies as queries; ``benchmarks/kb_relevance.py
    --fit``), never on query files. Mean MRR@10 over the held-out splits of banking77 / ru_banking77
    / stackfaq: these defaults 0.726 / 0.449 / 0.651; the banking77-only optimum (0.6, 0.2, 0.1,
    0.1, 0.0) 0.729 / 0.431 / 0.646, so the pooled choice is kept.

    Stage weights: ``article`` BM25 over title + body words, ``passage`` the best single sentence,
    ``bigram`` word pairs, ``chars`` BM25 over character 4-grams (misspellings, inflections the
    stemmer misses), ``title`` rapidfuzz similarity of the query to the title.
    """

    article_weight: float = 0.4
    passage_weight: float = 0.1
    bigram_weight: float = 0.1
    chars_weight: float = 0.3
    title_weight: float = 0.1
    title_repeat: int = 2
    article_bm25: Bm25Params = Bm25Params(1.2, 0.75)
    passage_bm25: Bm25Params = Bm25Params(1.2, 0.75)
    chars_bm25: Bm25Params = Bm25Params(1.2, 0.75)
    char_ngram: int = 4
    # Below this coverage of the query's informative words a hit is not suggested at all.
    min_confidence: float = 0.3
    # Fuzzy title matching over every title is cheap up to this many articles; above, only the
    # lexical candidates are compared.
    fuzzy_scan_limit: int = 5000
    candidate_limit: int = 200
    # Multiplier per log-count of "linked in a reply / marked helpful" (see KnowledgeIndex.set_boost).
    boost_weight: float = 0.05

    def stage_weights(self) -> tuple[float, float, float, float, float]:
        """The five stage weights in fusion order: article, passage, bigram, chars, title."""
        return (
            self.article_weight,
            self.passage_weight,
            self.bigram_weight,
            self.chars_weight,
            self.title_weight,
        )
