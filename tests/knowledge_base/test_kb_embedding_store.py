"""Article embeddings stored in the database: a process start loads them instead of running the model."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import numpy as np
import pytest
from kbkit import FakeModel, create
from sqlalchemy import func, select

from helpdesk.runtime import Runtime
from knowledge_base.article_vectors import ArticleEmbedding
from knowledge_base.embedding_store import store_changes, vector_bytes, vector_from_bytes
from knowledge_base.live_index import LiveIndex
from knowledge_base.models import KbArticleEmbedding
from knowledge_base.semantic import QUERY, SemanticStage, text_key

CARD = {
    "title": "Card delivery",
    "body": "When does my card arrive. The card is on its way.",
    "status": "published",
}
REFUND = {"title": "Refunds", "body": "Where is my refund. A refund takes five days.", "status": "published"}
PIN = {
    "title": "Change your PIN",
    "body": "How do I change my pin. Change it at an ATM.",
    "status": "published",
}


async def started(runtime: Runtime, model: Any, *, model_name: str = "fake-e5") -> LiveIndex:
    """A freshly started process's index: nothing held in memory, only what the database has."""
    index = LiveIndex(runtime.sessions, semantic=SemanticStage(model, model_name=model_name))
    index.start()
    await asyncio.wait_for(index.ready.wait(), timeout=30)
    return index


async def stored_rows(runtime: Runtime, article_id: int | None = None) -> set[tuple[int, str, str, str]]:
    query = select(
        KbArticleEmbedding.article_id,
        KbArticleEmbedding.model,
        KbArticleEmbedding.side,
        KbArticleEmbedding.text_sha256,
    )
    if article_id is not None:
        query = query.where(KbArticleEmbedding.article_id == article_id)
    async with runtime.sessions() as session:
        return {tuple(row) for row in await session.execute(query)}  # type: ignore[misc]


async def search(index: LiveIndex, query: str) -> list[tuple[int, float]]:
    return [(article.id, score) for article, score in await index.search(query, min_confidence=0.0)]


def test_a_vector_survives_its_bytes_exactly() -> None:
    vector = np.array([0.1, -2.5e-8, 3.0], dtype=np.float32)
    data = vector_bytes(vector)
    assert len(data) == 12
    assert np.array_equal(vector_from_bytes(data), vector)


def test_the_changes_to_store_are_the_new_texts_and_the_texts_the_article_no_longer_has() -> None:
    vector = np.ones(2, dtype=np.float32)
    embedding = ArticleEmbedding(
        "Refunds. New.", vector, ("Refunds", "New."), np.ones((2, 2), dtype=np.float32)
    )
    kept, gone = text_key(QUERY, "Refunds"), text_key(QUERY, "Old.")
    changes = store_changes("m", [("7", embedding)], {"7": {kept: vector, gone: vector}})
    assert sorted((row["side"], row["text_sha256"]) for row in changes.rows) == sorted(
        [text_key("passage", "Refunds. New."), text_key(QUERY, "New.")]
    )
    assert changes.stale == [{"a": 7, "m": "m", "s": QUERY, "h": gone[1]}]


@pytest.mark.integration
async def test_a_second_index_build_over_the_same_articles_embeds_nothing(
    client: Any, runtime: Runtime, agent: Any
) -> None:
    for article in (CARD, REFUND, PIN):
        await create(client, agent.headers, **article)
    first_model = FakeModel()
    first = await started(runtime, first_model)
    rows = await stored_rows(runtime)
    await first.close()

    second_model = FakeModel()
    second = await started(runtime, second_model)
    assert len(first_model.embedded) == len(rows) > 3
    assert second_model.embedded == []
    assert await stored_rows(runtime) == rows
    assert second.semantic is not None
    assert len(second.semantic.vectors or ()) == 3
    await second.close()


@pytest.mark.integration
async def test_an_edited_article_re_embeds_only_its_changed_texts_and_replaces_their_rows(
    client: Any, runtime: Runtime, agent: Any
) -> None:
    await create(client, agent.headers, **CARD)
    refund = await create(client, agent.headers, **REFUND)
    model = FakeModel()
    index = await started(runtime, model)
    before = await stored_rows(runtime, refund["id"])

    body = "Where is my refund. Refunds reach the card."
    response = await client.patch(
        f"/api/v1/kb/articles/{refund['id']}", json={"body": body}, headers=agent.headers
    )
    assert response.status_code == 200, response.text
    model.embedded.clear()
    await index.refresh(force=True)

    assert model.embedded == [
        "Refunds. Where is my refund. Refunds reach the card.",
        "Refunds reach the card.",
    ]
    after = await stored_rows(runtime, refund["id"])
    assert before - after == {
        (
            refund["id"],
            "fake-e5",
            *text_key("passage", "Refunds. Where is my refund. A refund takes five days."),
        ),
        (refund["id"], "fake-e5", *text_key(QUERY, "A refund takes five days.")),
    }
    assert after - before == {
        (refund["id"], "fake-e5", *text_key("passage", f"Refunds. {body}")),
        (refund["id"], "fake-e5", *text_key(QUERY, "Refunds reach the card.")),
    }
    await index.close()
    restarted_model = FakeModel()
    await (await started(runtime, restarted_model)).close()
    assert restarted_model.embedded == []


@pytest.mark.integration
async def test_a_deleted_articles_vectors_are_removed(client: Any, runtime: Runtime, agent: Any) -> None:
    card = await create(client, agent.headers, **CARD)
    refund = await create(client, agent.headers, **REFUND)
    await (await started(runtime, FakeModel())).close()
    assert await stored_rows(runtime, refund["id"])

    response = await client.delete(f"/api/v1/kb/articles/{refund['id']}", headers=agent.headers)
    assert response.status_code == 204, response.text
    assert await stored_rows(runtime, refund["id"]) == set()
    assert await stored_rows(runtime, card["id"])


@pytest.mark.integration
async def test_search_results_are_identical_whether_vectors_were_loaded_or_computed(
    client: Any, runtime: Runtime, agent: Any
) -> None:
    for article in (CARD, REFUND, PIN):
        await create(client, agent.headers, **article)
    queries = ["my card never came", "refund for the card", "pin", "spinning"]
    computed = await started(runtime, FakeModel())
    computed_results = [await search(computed, query) for query in queries]
    await computed.close()
    loaded_model = FakeModel()
    loaded = await started(runtime, loaded_model)
    loaded_results = [await search(loaded, query) for query in queries]
    await loaded.close()

    assert loaded_model.embedded == queries  # only the queries ran through the model
    assert loaded_results == computed_results
    assert any(results for results in computed_results)


class MeetingModel(FakeModel):
    """Two of these block in their first call until both are in it: two processes embedding at once,
    each having found the table empty."""

    def __init__(self, barrier: threading.Barrier) -> None:
        super().__init__()
        self.barrier = barrier

    def passage(self, texts: list[str]) -> np.ndarray:
        if not self.embedded:
            self.barrier.wait(timeout=10)
        return super().passage(texts)


@pytest.mark.integration
async def test_two_processes_starting_at_once_store_each_vector_once(
    client: Any, runtime: Runtime, agent: Any, caplog: pytest.LogCaptureFixture
) -> None:
    for article in (CARD, REFUND):
        await create(client, agent.headers, **article)
    barrier = threading.Barrier(2)
    first, second = MeetingModel(barrier), MeetingModel(barrier)
    indexes = await asyncio.gather(started(runtime, first), started(runtime, second))
    for index in indexes:
        await index.close()

    assert first.embedded
    assert sorted(first.embedded) == sorted(second.embedded)
    async with runtime.sessions() as session:
        count = await session.scalar(select(func.count()).select_from(KbArticleEmbedding))
    assert count == len(await stored_rows(runtime)) == len(first.embedded)
    # Neither failed to store (a failed write is only logged: the index works without stored vectors).
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


@pytest.mark.integration
async def test_vectors_of_another_model_are_not_reused(client: Any, runtime: Runtime, agent: Any) -> None:
    await create(client, agent.headers, **CARD)
    await (await started(runtime, FakeModel(), model_name="fake-e5 v1")).close()
    upgraded = FakeModel()
    await (await started(runtime, upgraded, model_name="fake-e5 v2")).close()
    assert upgraded.embedded
    assert {model for _, model, _, _ in await stored_rows(runtime)} == {"fake-e5 v1", "fake-e5 v2"}


@pytest.mark.integration
@pytest.mark.pool_of_one
async def test_an_edited_article_is_embedded_and_stored_through_a_pool_of_one_connection(
    client: Any, runtime: Runtime, agent: Any
) -> None:
    refund = await create(client, agent.headers, **REFUND)
    model = FakeModel()
    index = await started(runtime, model)
    response = await client.patch(
        f"/api/v1/kb/articles/{refund['id']}",
        json={"body": "Where is my refund. Refunds reach the card."},
        headers=agent.headers,
    )
    assert response.status_code == 200, response.text
    model.embedded.clear()

    # Holding the only connection while the model runs and the vectors are stored would wait it out.
    await asyncio.wait_for(index.refresh(force=True), timeout=10)

    assert "Refunds reach the card." in model.embedded
    await index.close()
