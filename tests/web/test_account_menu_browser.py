"""The header's account menu in a real browser (Debian's chromium driven by Playwright): a native disclosure that
static/menu.js lets Escape and a press outside close, the focus going back to its button on Escape; without
JavaScript it still opens and closes with its button."""

from __future__ import annotations

from typing import Any

import pytest
from test_browser_journeys import SHOTS, Server, _sign_in, _staff, browser, server

pytestmark = pytest.mark.browser
__all__ = ["browser", "server"]  # the journeys' fixtures: a server on the test database, and chromium

MENU = "header.top details.account"
BUTTON = "header.top details.account summary"


async def _console(browser: Any, server: Server, *, script: bool = True, width: int = 1280) -> Any:
    email = await _staff(server, "agent", "Alex Agent")
    context = await browser.new_context(viewport={"width": width, "height": 800}, java_script_enabled=script)
    page = await context.new_page()
    await _sign_in(page, server, email)
    await page.wait_for_url("**/agent")
    return page


async def _is_open(page: Any) -> bool:
    opened: bool = await page.eval_on_selector(MENU, "menu => menu.open")
    return opened


async def test_escape_closes_the_account_menu_and_puts_the_focus_back_on_its_button(
    browser: Any, server: Server
) -> None:
    page = await _console(browser, server)
    await page.click(BUTTON)
    assert await _is_open(page)
    await page.focus("header.top .account-menu a[href='/settings']")

    await page.keyboard.press("Escape")

    assert not await _is_open(page)
    assert await page.evaluate("document.activeElement === document.querySelector('header.top summary')")
    await page.context.close()


async def test_the_keyboard_opens_the_menu_and_escape_closes_it_again(browser: Any, server: Server) -> None:
    page = await _console(browser, server)
    await page.focus(BUTTON)
    await page.keyboard.press("Enter")
    assert await _is_open(page)

    await page.keyboard.press("Escape")

    assert not await _is_open(page)
    await page.keyboard.press("Enter")  # the focus is on the button: it opens again
    assert await _is_open(page)
    await page.context.close()


async def test_a_click_outside_closes_the_account_menu_and_a_click_inside_does_not(
    browser: Any, server: Server
) -> None:
    page = await _console(browser, server, width=375)
    await page.click(BUTTON)
    await page.click("header.top .account-menu .menu-who")
    assert await _is_open(page)
    await page.screenshot(path=str(SHOTS / "account-menu-open-375.png"))

    await page.click("#queue-h")

    assert not await _is_open(page)
    await page.context.close()


async def test_tabbing_out_of_the_account_menu_closes_it(browser: Any, server: Server) -> None:
    page = await _console(browser, server)
    await page.click(BUTTON)
    await page.focus("header.top .account-menu form:last-of-type button")

    await page.keyboard.press("Tab")

    assert not await _is_open(page)
    await page.context.close()


async def test_without_javascript_the_account_menu_still_opens_and_closes_with_its_button(
    browser: Any, server: Server
) -> None:
    page = await _console(browser, server, script=False)
    await page.click(BUTTON)
    assert await _is_open(page)
    assert await page.is_visible("header.top .account-menu a[href='/settings']")

    await page.click(BUTTON)

    assert not await _is_open(page)
    await page.context.close()
