from __future__ import annotations

import pytest

from knowledge_base.index import Article, Hit, KnowledgeIndex
from knowledge_base.ranking import RankingParams

ARTICLES = [
    Article(
        "printer-jam", "Printer paper jam", "Open the rear tray and pull the jammed sheet out gently.", "en"
    ),
    Article("printer-e1042", "Printer error E-1042", "E-1042 means the toner cartridge is not seated.", "en"),
    Article(
        "password",
        "Reset your password",
        "Use the link on the sign-in page to reset a forgotten password.",
        "en",
    ),
    Article("vpn", "VPN does not connect", "Check the VPN client version and your network connection.", "en"),
    Article(
        "printer-ru",
        "Принтер не печатает",
        "Если принтер не печатает, проверьте бумагу и картридж принтера.",
        "ru",
    ),
    Article(
        "internal-escalation", "Escalate printer faults", "Internal: call the printer vendor hotline.", "en"
    ),
]


@pytest.fixture
def index() -> KnowledgeIndex:
    return KnowledgeIndex.build(ARTICLES)


def ids(hits: list[Hit]) -> list[str]:
    return [hit.article_id for hit in hits]


def test_search_puts_the_answering_article_first(index: KnowledgeIndex) -> None:
    assert ids(index.search("I forgot my password, how do I reset it?"))[0] == "password"
    assert ids(index.search("paper is jammed in the printer"))[0] == "printer-jam"


def test_error_code_finds_its_article_with_or_without_the_hyphen(index: KnowledgeIndex) -> None:
    assert ids(index.search("E-1042"))[0] == "printer-e1042"
    assert ids(index.search("getting e1042 on my printer"))[0] == "printer-e1042"


def test_russian_query_in_another_case_finds_the_russian_article(index: KnowledgeIndex) -> None:
    assert ids(index.search("у меня принтеру не хватает бумаги", language="ru")) == ["printer-ru"]


def test_misspelt_query_still_finds_the_article(index: KnowledgeIndex) -> None:
    assert ids(index.search("pasword resset"))[0] == "password"


def test_unrelated_query_returns_no_suggestion(index: KnowledgeIndex) -> None:
    assert index.search("What is the weather in Paris tomorrow?") == []
    assert index.search("the and of") == []
    assert index.search("") == []


def test_hits_are_sorted_limited_and_scored_between_zero_and_one(index: KnowledgeIndex) -> None:
    hits = index.search("printer", limit=2)
    assert len(hits) == 2
    assert all(0.0 < hit.score <= 1.0 for hit in hits)
    assert hits[0].score >= hits[1].score


def test_added_article_is_found_at_once() -> None:
    index = KnowledgeIndex.build(ARTICLES)
    index.add(Article("wifi", "Wi-Fi keeps dropping", "Forget the network and join again.", "en"))
    assert "wifi" in index
    assert len(index) == len(ARTICLES) + 1
    assert ids(index.search("wifi keeps dropping"))[0] == "wifi"


def test_updated_article_is_found_by_its_new_text_only() -> None:
    index = KnowledgeIndex.build(ARTICLES)
    index.update(Article("vpn", "Mailbox is full", "Archive old mail to free mailbox space.", "en"))
    assert ids(index.search("mailbox full"))[0] == "vpn"
    assert "vpn" not in ids(index.search("VPN client does not connect"))
    assert len(index) == len(ARTICLES)


def test_removed_article_is_never_returned() -> None:
    index = KnowledgeIndex.build(ARTICLES)
    assert index.remove("password") is True
    assert index.remove("password") is False
    assert "password" not in ids(index.search("reset my password", min_confidence=0.0))
    assert len(index) == len(ARTICLES) - 1


def test_internal_article_is_never_returned_when_only_public_ids_are_allowed(index: KnowledgeIndex) -> None:
    public = {article.id for article in ARTICLES if article.id != "internal-escalation"}
    query = "escalate printer faults to the vendor hotline"
    assert ids(index.search(query))[0] == "internal-escalation"
    assert "internal-escalation" not in ids(index.search(query, visible=public, limit=10))
    assert "internal-escalation" not in ids(index.search(query, visible=lambda i: i in public, limit=10))
    assert index.search(query, visible=set()) == []


def test_language_filter_keeps_only_articles_in_that_language(index: KnowledgeIndex) -> None:
    assert ids(index.search("printer", language="ru", min_confidence=0.0)) == []
    assert set(ids(index.search("принтер", language="ru"))) == {"printer-ru"}


def test_boost_reorders_matching_articles_but_never_surfaces_unrelated_ones() -> None:
    index = KnowledgeIndex.build(ARTICLES, params=RankingParams(boost_weight=0.5))
    before = ids(index.search("printer problem", limit=3))
    underdog = before[1]
    index.set_boost({underdog: 50, "vpn": 1000})
    after = ids(index.search("printer problem", limit=3))
    assert after[0] == underdog
    assert "vpn" not in after


def test_build_reports_progress() -> None:
    seen: list[int] = []
    articles = [Article(f"a{i}", f"Title {i}", f"body {i}", "en") for i in range(2500)]
    KnowledgeIndex.build(articles, progress=seen.append)
    assert seen == [1000, 2000, 2500]


def test_article_without_language_gets_it_from_its_script() -> None:
    index = KnowledgeIndex.build([Article("ru", "Сброс пароля", "Нажмите «Забыли пароль».")])
    assert ids(index.search("пароль", language="ru")) == ["ru"]
