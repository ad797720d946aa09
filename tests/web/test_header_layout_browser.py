"""The page header in a real browser (Debian's chromium driven by Playwright): the console's menu, the longest
there is (an admin's, in Russian, with a long name), stays on one line at a laptop's 1100 px, and on a phone
(375 px) every item is reachable without the page scrolling sideways; with and without JavaScript alike.

Screenshots land in test-output/screenshots/ (header-ru-1100.png, header-ru-375.png, header-en-1100.png, ...).
"""

from __future__ import annotations

import itertools
import os
from typing import Any

import pytest
from test_browser_journeys import PASSWORD, SHOTS, Server, _sign_in, browser, server

from helpdesk.core.settings import Settings

pytestmark = pytest.mark.browser
__all__ = ["browser", "server"]  # the journeys' fixtures: a server on the test database, and chromium

# Where each item of the header is: its text, its box, and whether it lies inside the viewport.
MEASURE = """() => {
  const items = [...document.querySelectorAll(
    'header.top .brand, header.top nav a, header.top summary, header.top .account-menu a, header.top .account-menu button')];
  return {
    headerScrollWidth: document.querySelector('header.top').scrollWidth,
    headerHeight: document.querySelector('header.top').getBoundingClientRect().height,
    items: items.map(el => {
      const box = el.getBoundingClientRect();
      return {text: el.textContent.trim(), top: box.top, bottom: box.bottom, left: box.left, right: box.right,
              width: box.width, height: box.height,
              visible: el.checkVisibility() && box.width > 0 && box.height > 0};
    }),
  };
}"""


async def _admin(server: Server, language: str) -> str:
    from helpdesk.accounts.schemas import UserUpdate
    from helpdesk.accounts.service import AccountService
    from helpdesk.accounts.staff import StaffService
    from helpdesk.runtime import start_runtime, stop_runtime

    runtime = await start_runtime(Settings(database_url=server.database_url), in_process_jobs=True)
    try:
        email = f"admin-{os.urandom(3).hex()}@staff.example"
        user = await AccountService(runtime).create_user(
            email=email, name="Александра Константинова", role="admin", password=PASSWORD
        )
        await StaffService(runtime).update_user(user.id, UserUpdate(language=language))  # type: ignore[arg-type]
        return email
    finally:
        await stop_runtime(runtime)


async def _header(
    browser: Any, server: Server, email: str, width: int, shot: str, *, script: bool = True
) -> Any:
    context = await browser.new_context(viewport={"width": width, "height": 800}, java_script_enabled=script)
    page = await context.new_page()
    await _sign_in(page, server, email)
    await page.wait_for_url("**/agent")
    await page.screenshot(path=str(SHOTS / shot), clip={"x": 0, "y": 0, "width": width, "height": 260})
    measured = await page.evaluate(MEASURE)
    measured["page"] = page
    return measured


def _lines(items: list[dict[str, Any]]) -> int:
    """How many rows the items sit on (items whose vertical middles differ by more than half a line)."""
    middles = sorted((item["top"] + item["bottom"]) / 2 for item in items if item["visible"])
    return 1 + sum(1 for a, b in itertools.pairwise(middles) if b - a > 12)


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_the_admins_menu_stays_on_one_line_at_1100_pixels(
    browser: Any, server: Server, language: str
) -> None:
    email = await _admin(server, language)
    for script in (True, False):
        shot = f"header-{language}-1100{'' if script else '-nojs'}.png"
        measured = await _header(browser, server, email, 1100, shot, script=script)
        items = measured["items"]
        assert _lines(items) == 1, [(i["text"], i["top"], i["bottom"], i["visible"]) for i in items]
        assert measured["headerScrollWidth"] <= 1100
        assert all(item["right"] <= 1100 for item in items)
        await measured["page"].context.close()


async def test_between_phone_and_laptop_the_main_links_have_a_row_of_their_own(
    browser: Any, server: Server
) -> None:
    email = await _admin(server, "ru")
    measured = await _header(browser, server, email, 800, "header-ru-800.png")
    items = [item for item in measured["items"] if item["visible"]]
    brand, links, account = items[0], items[1:-1], items[-1]
    assert _lines([brand, account]) == 1
    assert _lines(links) == 1
    assert min(link["top"] for link in links) >= brand["bottom"]
    assert measured["headerScrollWidth"] <= 800
    await measured["page"].context.close()


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_on_a_phone_every_menu_item_is_reachable_without_sideways_scrolling(
    browser: Any, server: Server, language: str
) -> None:
    email = await _admin(server, language)
    words = {
        "ru": ("Очередь", "Администрирование", "Мои настройки", "Выйти"),
        "en": ("Queue", "Administration", "My settings", "Sign out"),
    }
    for script in (True, False):
        suffix = "" if script else "-nojs"
        measured = await _header(
            browser, server, email, 375, f"header-{language}-375{suffix}.png", script=script
        )
        page = measured["page"]
        # The account menu opens in place (a disclosure: no script needed) and fits the screen too.
        await page.click("header.top summary")
        await page.screenshot(
            path=str(SHOTS / f"header-{language}-375-menu{suffix}.png"),
            clip={"x": 0, "y": 0, "width": 375, "height": 400},
        )
        opened = await page.evaluate(MEASURE)
        assert opened["headerScrollWidth"] <= 375
        items = [item for item in opened["items"] if item["visible"]]
        assert {item["text"] for item in items} >= set(words[language])
        assert all(item["left"] >= 0 and item["right"] <= 375 for item in items), items
        assert all(item["height"] >= 24 for item in items), items  # big enough for a thumb
        await page.click(f"header.top button:text('{words[language][3]}')")
        await page.wait_for_url("**/login")
        await page.context.close()


async def test_the_portals_header_for_a_visitor_fits_a_phone_in_russian(browser: Any, server: Server) -> None:
    context = await browser.new_context(viewport={"width": 375, "height": 800}, locale="ru-RU")
    page = await context.new_page()
    await page.goto(f"{server.url}/", wait_until="load")
    await page.screenshot(
        path=str(SHOTS / "header-ru-375-visitor.png"), clip={"x": 0, "y": 0, "width": 375, "height": 200}
    )
    measured = await page.evaluate(MEASURE)
    items = [item for item in measured["items"] if item["visible"]]
    assert [item["text"] for item in items] == ["Служба поддержки", "Войти", "English"]
    assert _lines(items) == 1
    assert measured["headerScrollWidth"] <= 375
    await context.close()
