"""English and Russian: the browser's language, the switch, the person's setting; dates and plurals."""

from __future__ import annotations

import pytest

from helpdesk.web.i18n import negotiate, translations
from helpdesk.web.text import countdown_text, split_quoted


@pytest.mark.parametrize(
    ("setting", "accept", "expected"),
    [
        (None, "ru-RU,ru;q=0.9,en;q=0.8", "ru"),
        (None, "de-DE,de;q=0.9,en;q=0.5", "en"),
        (None, "en;q=0.4,ru;q=0.8", "ru"),
        ("ru", "en", "ru"),
        ("en", "ru", "en"),
        (None, None, "en"),
        (None, "garbage;q=x", "en"),
    ],
)
def test_language_follows_the_setting_then_the_browser(
    setting: str | None, accept: str | None, expected: str
) -> None:
    assert negotiate(setting=setting, cookie=None, accept_language=accept) == expected


@pytest.mark.parametrize(
    ("setting", "cookie", "expected"), [("en", "ru", "en"), ("ru", "en", "ru"), (None, "ru", "ru")]
)
def test_a_saved_language_wins_over_the_switchs_cookie(
    setting: str | None, cookie: str, expected: str
) -> None:
    assert negotiate(setting=setting, cookie=cookie, accept_language="en") == expected


def test_russian_catalog_has_plural_forms() -> None:
    ru = translations("ru")
    assert ru.ngettext("%(num)s ticket", "%(num)s tickets", 1) == "%(num)s заявка"
    assert ru.ngettext("%(num)s ticket", "%(num)s tickets", 3) == "%(num)s заявки"
    assert ru.ngettext("%(num)s ticket", "%(num)s tickets", 5) == "%(num)s заявок"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(60 * 135, "2h 15m"), (-60 * 35, "−35m"), (86400 * 2 + 3600 * 5, "2d 5h"), (59, "0m")],
)
def test_countdown_shows_two_units_at_most(seconds: float, text: str) -> None:
    assert countdown_text(seconds) == text


def test_quoted_history_is_folded_away_from_the_new_text() -> None:
    body = "Still broken.\n\nOn Mon, 1 Mar 2027 at 10:00, Support wrote:\n> Did you restart it?"
    assert split_quoted(body) == (
        "Still broken.",
        "On Mon, 1 Mar 2027 at 10:00, Support wrote:\n> Did you restart it?",
    )
    assert split_quoted("Спасибо!\n\nПн, 1 мар. 2027 г. Поддержка написал(а):\n> текст")[0] == "Спасибо!"
    assert split_quoted("No quote here") == ("No quote here", "")


async def test_portal_speaks_russian_to_a_russian_browser_and_switches_on_request(client) -> None:  # type: ignore[no-untyped-def]
    page = await client.get("/", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert '<html lang="ru">' in page.text
    assert "Чем помочь?" in page.text
    switched = await client.get("/language/en?next=/")
    assert switched.status_code in (302, 303)
    again = await client.get("/", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert "How can we help?" in again.text


def test_charts_render_without_any_data() -> None:
    from helpdesk.web import charts

    assert "<svg" in charts.bars("Backlog", [], {}, stacked=True)
    assert "<svg" in charts.line("Compliance", ["01.03"], {"First response": [None]}, percent=True)
