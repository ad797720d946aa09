"""The optional semantic stage with a fake embedding model (the real one is an optional extra)."""

from __future__ import annotations

import pytest
from kbkit import FakeModel

from knowledge_base.index import Article, KnowledgeIndex
from knowledge_base.semantic import SemanticParams, SemanticStage, article_chunks, whole_text

ARTICLES = [
    Article("a", "Card delivery", "When does my card arrive. The card is on its way."),
    Article("b", "Refunds", "Where is my refund. A refund takes five days."),
    Article("c", "Change your PIN", "How do I change my pin. The pin is changed at any ATM."),
]


def stage(params: SemanticParams | None = None) -> SemanticStage:
    semantic = SemanticStage(FakeModel(), params=params)
    triples = [(a.id, a.title, a.body) for a in ARTICLES]
    for (article_id, _, _), embedding in zip(triples, semantic.embed_articles(triples), strict=True):
        semantic.put(article_id, embedding)
    return semantic


@pytest.mark.parametrize(
    ("title", "body", "limit", "expected"),
    [
        (
            "Refunds",
            "Where is my refund? It takes five days.",
            64,
            ["Refunds", "Where is my refund?", "It takes five days."],
        ),
        ("Refunds", "", 64, ["Refunds"]),
        (
            "Refunds",
            "Where is my refund now.  Where   is my refund now.",
            64,
            ["Refunds", "Where is my refund now."],
        ),
        ("Refunds", "One two three. Four five six. Seven eight nine.", 2, ["Refunds", "One two three."]),
    ],
)
def test_an_article_is_chunked_into_its_title_and_sentences_without_repeats(
    title: str, body: str, limit: int, expected: list[str]
) -> None:
    assert article_chunks(title, body, limit) == expected


def test_the_whole_text_is_the_title_then_the_body() -> None:
    assert whole_text(" Refunds ", "Where is it?\n") == "Refunds. Where is it?"
    assert whole_text("Refunds", "  ") == "Refunds"


def test_embedding_an_article_again_embeds_only_the_texts_that_changed() -> None:
    semantic = stage()
    model = semantic.model
    assert isinstance(model, FakeModel)
    model.embedded.clear()
    [edited] = semantic.embed_articles([("b", "Refunds", "Where is my refund. Refunds reach the card.")])
    assert model.embedded == [
        "Refunds. Where is my refund. Refunds reach the card.",
        "Refunds reach the card.",
    ]
    assert edited.chunk_texts == ("Refunds", "Where is my refund.", "Refunds reach the card.")
    model.embedded.clear()
    semantic.embed_articles([("b", "Refunds", "Where is my refund. A refund takes five days.")])
    assert model.embedded == []


def test_the_same_sentence_in_two_new_articles_is_embedded_once() -> None:
    semantic = SemanticStage(FakeModel())
    semantic.embed_articles([("x", "Cards", "Call us."), ("y", "Refunds", "Call us.")])
    model = semantic.model
    assert isinstance(model, FakeModel)
    assert model.embedded.count("Call us.") == 1


def test_the_semantic_stage_reorders_what_the_lexical_ranking_found() -> None:
    index = KnowledgeIndex.build(ARTICLES)
    semantic = stage(SemanticParams(weights=(0.2, 0.3, 0.3, 0.2)))
    query = "when does my card arrive, nonrefundable nonrefundable"
    lexical = [hit.article_id for hit in index.search(query, min_confidence=0.0)]
    reranked = index.search(query, min_confidence=0.0, rerank=semantic.reranker(semantic.encode_query(query)))
    assert lexical[0] == "a"
    assert reranked[0].article_id == "b"
    assert all(0.0 <= hit.score <= 1.0 for hit in reranked)


def test_a_near_paraphrase_of_a_chunk_is_confident_without_shared_words() -> None:
    index = KnowledgeIndex.build(ARTICLES)
    semantic = stage(SemanticParams(confident_cosine=0.95))
    # No index term, character 4-gram or title in common with any article: no lexical evidence.
    query = "spinning"
    assert index.search(query) == []
    hits = index.search(query, rerank=semantic.reranker(semantic.encode_query(query)))
    assert [hit.article_id for hit in hits][:1] == ["c"]


def test_below_the_cosine_bar_the_lexical_cut_off_still_decides() -> None:
    index = KnowledgeIndex.build(ARTICLES)
    semantic = stage(SemanticParams(confident_cosine=1.01))
    query = "spinning"
    assert index.search(query, rerank=semantic.reranker(semantic.encode_query(query))) == []


@pytest.mark.parametrize(("off_topic_cosine", "suggested"), [(0.0, ["a"]), (1.01, [])])
def test_shared_words_count_only_when_the_query_is_not_off_topic(
    off_topic_cosine: float, suggested: list[str]
) -> None:
    index = KnowledgeIndex.build(ARTICLES)
    semantic = stage(SemanticParams(off_topic_cosine=off_topic_cosine, confident_cosine=1.01))
    query = "card arrive"
    assert [hit.article_id for hit in index.search(query)] == ["a"]
    reranker = semantic.reranker(semantic.encode_query(query))
    assert [hit.article_id for hit in index.search(query, rerank=reranker)] == suggested


def test_a_stage_without_embeddings_leaves_the_lexical_ranking_alone() -> None:
    index = KnowledgeIndex.build(ARTICLES)
    semantic = SemanticStage(FakeModel())
    query = "card arrive"
    plain = index.search(query, min_confidence=0.0)
    assert (
        index.search(query, min_confidence=0.0, rerank=semantic.reranker(semantic.encode_query(query)))
        == plain
    )
    semantic.forget("a")  # nothing held: no error
