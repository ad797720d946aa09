"""The portal's knowledge-base pages in Russian: the article page and the suggestions shown while typing."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

RUSSIAN_READER = {"Accept-Language": "ru-RU,ru;q=0.9"}


async def test_a_russian_reader_sees_the_article_page_and_the_suggestions_in_russian(client, agent):  # type: ignore[no-untyped-def]
    created = await client.post(
        "/api/v1/kb/articles",
        json={"title": "Autoclave shows error E-104", "body": "Check the door seal.", "status": "published"},
        headers=agent.headers,
    )
    assert created.status_code == 201, created.text

    article = await client.get(f"/portal/kb/{created.json()['id']}", headers=RUSSIAN_READER)
    assert article.status_code == 200
    for label in ("Статья помогла?", "Это решило мою проблему", "Да", "Нет", "Всё ещё нужна помощь?"):
        assert label in article.text, label
    assert "Was this helpful?" not in article.text

    form = await client.get("/", headers=RUSSIAN_READER)
    assert 'data-heading="Возможно, ответ на ваш вопрос есть в этих статьях:"' in form.text
    assert 'data-solved="Это решило мою проблему"' in form.text
    assert 'data-thanks="Рады, что помогло: заявка не нужна."' in form.text
