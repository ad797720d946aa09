"""In-memory knowledge-base search index: cheap single-article changes, filtered hybrid search.

A service builds one ``KnowledgeIndex`` at start-up (``KnowledgeIndex.build(articles)``), calls
``add`` / ``remove`` on every article change, and ``search`` for suggestions. Every method is
synchronous and CPU-bound; the index is not thread-safe, so a service serialises writes.

Search runs five stages over the articles (see ``knowledge_base.ranking.RankingParams``): BM25 over
words of the whole article, BM25 over its single sentences (the best one counts), BM25 over word
pairs, BM25 over character 4-grams, and a rapidfuzz title match. Their max-normalised scores are
fused by fixed weights. A hit is suggested only if its confidence (the share of the query's
informative words it contains, or a near-exact title match) reaches ``min_confidence``: an
off-topic question gets no suggestion rather than a wrong one.

Learning from use (``set_boost``): counts of "an agent linked this article in a reply / a customer
marked it helpful" multiply an article's fused score by ``1 + boost_weight * ln(1 + count)``. The
boost only reorders articles that already match the query, so it nudges similar questions towards
articles that helped before and never surfaces an unrelated popular article.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

import numpy as np

from knowledge_base.analysis import (
    WEAK_TERMS,
    analyze,
    char_ngrams,
    detect_language,
    normalize,
    split_passages,
    stem,
    word_bigrams,
)
from knowledge_base.ranking import (
    FloatArray,
    RankingParams,
    SparseBm25,
    coverage,
    expand_unknown_terms,
    normalize_scores,
    title_similarity,
)

Visibility = Callable[[str], bool] | Collection[str] | None
# A later stage (the optional semantic one) that re-scores the candidates of one query: it receives their
# article ids, fused lexical scores and lexical confidence, and returns their final scores and confidence.
Reranker = Callable[[Sequence[str], FloatArray, FloatArray], tuple[FloatArray, FloatArray]]
Progress = Callable[[int], None]


class ArticleLike(Protocol):
    """What the index reads from an article; importer records and ORM rows both fit."""

    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def body(self) -> str: ...
    @property
    def language(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Article:
    """A plain article for callers that have no record type of their own."""

    id: str
    title: str
    body: str
    language: str | None = None


_WEAK_STEMS = frozenset(stem(word) for word in WEAK_TERMS)


def stem_is_weak(term: str) -> bool:
    """Whether an index term is a question word or similar that says nothing about the topic."""
    return term in _WEAK_STEMS


class Hit(NamedTuple):
    """One suggestion. ``score`` in (0, 1] is the fused relevance: 1 means best in every stage of
    this query. It orders hits within one search; whether to suggest at all is decided by the
    confidence cut-off before a hit is returned."""

    article_id: str
    score: float


@dataclass(slots=True)
class _Entry:
    slot: int
    passage_slots: list[int]
    title: str
    body: str


class KnowledgeIndex:
    """Articles by id, searchable. ``add`` replaces an article with the same id; ``remove`` forgets one."""

    def __init__(self, params: RankingParams | None = None) -> None:
        self.params = params or RankingParams()
        self._words = SparseBm25(self.params.article_bm25)
        self._passages = SparseBm25(self.params.passage_bm25)
        self._bigrams = SparseBm25(self.params.article_bm25)
        self._chars = SparseBm25(self.params.chars_bm25)
        self._entries: dict[str, _Entry] = {}
        self._slot_ids: list[str | None] = []
        self._slot_languages: list[str] = []
        self._titles: list[str] = []
        self._passage_owner = array("i")
        self._boost: dict[str, float] = {}

    @classmethod
    def build(
        cls,
        articles: Iterable[ArticleLike],
        *,
        params: RankingParams | None = None,
        progress: Progress | None = None,
    ) -> KnowledgeIndex:
        """Index every article (a later duplicate id replaces an earlier one); ``progress`` receives the
        running count every 1,000 articles and once at the end."""
        index = cls(params)
        count = 0
        for count, article in enumerate(articles, start=1):
            index.add(article)
            if progress is not None and count % 1000 == 0:
                progress(count)
        if progress is not None:
            progress(count)
        return index

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._entries

    def _bags(self, title: str, body: str) -> tuple[list[str], list[list[str]], list[str], list[str]]:
        title_terms = analyze(title)
        passages = [title_terms, *(analyze(passage) for passage in split_passages(body))]
        words = title_terms * self.params.title_repeat + [t for p in passages[1:] for t in p]
        bigrams = [pair for passage in passages for pair in word_bigrams(passage)]
        chars = char_ngrams(f"{title} " * self.params.title_repeat + body, self.params.char_ngram)
        return words, [p for p in passages if p], bigrams, chars

    def add(self, article: ArticleLike) -> None:
        """Index ``article``, replacing any article with the same id. Cost is proportional to the
        article's length, not to the size of the index."""
        self.remove(article.id)
        words, passages, bigrams, chars = self._bags(article.title, article.body)
        slot = self._words.add(words)
        # The three article-level engines are always changed together, so they share slot numbers.
        self._bigrams.add(bigrams)
        self._chars.add(chars)
        passage_slots = []
        for passage in passages:
            passage_slots.append(self._passages.add(passage))
            self._passage_owner.append(slot)
        self._slot_ids.append(article.id)
        language = article.language or detect_language(f"{article.title} {article.body}")
        self._slot_languages.append(language)
        self._titles.append(normalize(article.title))
        self._entries[article.id] = _Entry(slot, passage_slots, article.title, article.body)

    update = add

    def remove(self, article_id: str) -> bool:
        """Forget an article; returns whether it was indexed."""
        entry = self._entries.pop(article_id, None)
        if entry is None:
            return False
        words, passages, bigrams, chars = self._bags(entry.title, entry.body)
        self._words.remove(entry.slot, words)
        self._bigrams.remove(entry.slot, bigrams)
        self._chars.remove(entry.slot, chars)
        for passage_slot, passage in zip(entry.passage_slots, passages, strict=True):
            self._passages.remove(passage_slot, passage)
        self._slot_ids[entry.slot] = None
        self._titles[entry.slot] = ""
        return True

    def set_boost(self, counts: Mapping[str, int]) -> None:
        """Replace the learned-from-use counts (article id → times linked in a reply or marked helpful)."""
        self._boost = {
            article_id: 1.0 + self.params.boost_weight * math.log1p(count)
            for article_id, count in counts.items()
            if count > 0
        }

    def search(
        self,
        query: str,
        language: str | None = None,
        limit: int = 5,
        visible: Visibility = None,
        *,
        min_confidence: float | None = None,
        rerank: Reranker | None = None,
    ) -> list[Hit]:
        """Best articles for ``query``, best first, at most ``limit``.

        ``language`` keeps only articles in that language (``None``: all). ``visible`` is either the
        collection of article ids the caller may see or a predicate on the id; other articles are
        never returned and do not influence the scores of those that are. Guarantees: every hit's
        confidence is at least ``min_confidence`` (default ``params.min_confidence``), so an empty
        list means "nothing relevant enough"; scores lie in (0, 1] and do not increase down the list.
        ``rerank`` replaces the lexical scores and confidence of the candidates by its own (the boost
        and the cut-off still apply); then a candidate without any lexical match can be a hit, and a
        candidate with one may score 0.
        """
        threshold = self.params.min_confidence if min_confidence is None else min_confidence
        terms = analyze(query)
        if not terms or not self._entries or limit <= 0:
            return []
        expansions = expand_unknown_terms(terms, self._words.vocabulary(), self._words)
        weights: dict[str, float] = {}
        idf_total = 0.0
        for term, stands_for in expansions.items():
            for index_term, weight in stands_for:
                weights[index_term] = max(weights.get(index_term, 0.0), weight)
            if stem_is_weak(term):
                continue
            # A misspelt term counts at its best candidate's full idf, so a 0.8-similar guess
            # gives only 0.8 of the credit; a word the base has never seen counts at the top idf.
            known = [self._words.idf(t) for t, _ in stands_for]
            idf_total += max(known) if known else self._words.max_idf()
        word_scores, matched = self._words.scores(weights, weak=_WEAK_STEMS)
        passage_scores = self._best_passages(weights)
        bigram_scores, _ = self._bigrams.scores(dict.fromkeys(word_bigrams(terms), 1.0))
        char_scores, _ = self._chars.scores(dict.fromkeys(char_ngrams(query, self.params.char_ngram), 1.0))

        allowed = self._allowed(language, visible)
        candidates = self._candidates(word_scores + char_scores + passage_scores, allowed)
        if candidates.size == 0:
            return []
        titles = [self._titles[slot] for slot in candidates]
        title_scores = title_similarity(normalize(query), titles)
        stages = (word_scores[candidates], passage_scores[candidates], bigram_scores[candidates])
        fused = np.zeros(candidates.size, dtype=np.float64)
        for stage, weight in zip(
            (*stages, char_scores[candidates], title_scores), self.params.stage_weights(), strict=True
        ):
            fused += weight * normalize_scores(stage)
        confidence = np.maximum(
            coverage(matched[candidates], idf_total), np.where(title_scores >= 0.9, 1.0, 0.0)
        )
        lexical = fused
        if rerank is not None:
            fused, confidence = rerank([self._slot_ids[s] or "" for s in candidates], lexical, confidence)
        if self._boost:
            fused *= np.array([self._boost.get(self._slot_ids[s] or "", 1.0) for s in candidates])
        final = fused
        order = np.argsort(-final, kind="stable")
        hits = []
        for position in order:
            # No evidence at all: neither a lexical match nor a positive reranked score.
            if confidence[position] < threshold or (final[position] <= 0.0 and lexical[position] <= 0.0):
                continue
            article_id = self._slot_ids[candidates[position]]
            assert article_id is not None  # candidates are live slots
            hits.append(Hit(article_id, round(min(float(final[position]), 1.0), 4)))
            if len(hits) == limit:
                break
        return hits

    def _best_passages(self, weights: Mapping[str, float]) -> FloatArray:
        # An article's passage score is its best sentence: a question that paraphrases one example
        # should not lose to an article that mentions each word once in different places.
        scores, _ = self._passages.scores(weights)
        best = np.zeros(len(self._slot_ids), dtype=np.float64)
        touched = np.flatnonzero(scores)
        if touched.size:
            owners = np.frombuffer(self._passage_owner, dtype=np.int32)[touched]
            np.maximum.at(best, owners, scores[touched])
        return best

    def _allowed(self, language: str | None, visible: Visibility) -> Callable[[int], bool]:
        slot_ids = self._slot_ids
        languages = self._slot_languages
        if visible is None:
            is_visible: Callable[[str], bool] = lambda _article_id: True  # noqa: E731
        elif callable(visible):
            is_visible = visible
        else:
            allowed_ids = visible if isinstance(visible, set | frozenset | dict) else set(visible)
            is_visible = allowed_ids.__contains__

        def allowed(slot: int) -> bool:
            article_id = slot_ids[slot]
            if article_id is None or (language is not None and languages[slot] != language):
                return False
            return is_visible(article_id)

        return allowed

    def _candidates(self, lexical: FloatArray, allowed: Callable[[int], bool]) -> np.ndarray:
        """Up to ``candidate_limit`` allowed slots: the best lexical ones, plus, in a small base,
        every allowed slot (so a title-only fuzzy match such as a misspelt product name is seen)."""
        limit = self.params.candidate_limit
        if len(self._entries) <= self.params.fuzzy_scan_limit:
            return np.array([s for s in range(len(self._slot_ids)) if allowed(s)], dtype=np.int64)
        matching = np.flatnonzero(lexical)
        if matching.size > limit * 4:
            # Partial selection first: sorting every slot that shares a common word costs more
            # than the rest of the query.
            matching = matching[np.argpartition(-lexical[matching], limit * 4)[: limit * 4]]
        ordered = matching[np.argsort(-lexical[matching], kind="stable")]
        chosen = [int(s) for s in ordered if allowed(int(s))][:limit]
        if len(chosen) < limit and ordered.size == limit * 4:
            # A narrow visibility filter hid most of the best: walk every matching slot instead.
            everything = np.flatnonzero(lexical)
            ordered = everything[np.argsort(-lexical[everything], kind="stable")]
            chosen = [int(s) for s in ordered if allowed(int(s))][:limit]
        return np.array(chosen, dtype=np.int64)
