"""The queue's j/k highlight in a real browser (Debian's chromium driven by Playwright) survives the live refresh
that replaces the list: it stays on the same ticket when the ticket moves up, and goes to the ticket now in
its place when it leaves the list."""

from __future__ import annotations

from typing import Any

import pytest
from test_browser_journeys import SHOTS, Server, _sign_in, _staff, _submit_request, browser, server

pytestmark = pytest.mark.browser
__all__ = ["browser", "server"]  # the journeys' fixtures: a server on the test database, and chromium

ROWS = "[...document.querySelectorAll('#rows tr[data-id]')].map(row => row.dataset.id)"
CURSOR = """() => {
  const rows = [...document.querySelectorAll('#rows tr.cursor')];
  return {ids: rows.map(row => row.dataset.id),
          focused: document.activeElement.closest('#rows tr')?.dataset.id ?? null};
}"""


async def _queue(browser: Any, server: Server, email: str) -> Any:
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    await _sign_in(page, server, email)
    await page.wait_for_url("**/agent")
    await page.goto(f"{server.url}/agent?view=all", wait_until="load")
    return page


async def _close_elsewhere(other: Any, server: Server, ticket: str) -> None:
    """Another tab closes ``ticket`` with the queue's bulk Close (a ticket event for every open queue)."""
    await other.goto(f"{server.url}/agent?view=all", wait_until="load")
    await other.check(f"#rows tr[data-id='{ticket}'] input[type=checkbox]")
    await other.click("form#bulk button[value=close]")
    await other.wait_for_load_state("load")


async def test_the_highlighted_ticket_stays_highlighted_when_the_live_queue_refreshes(
    browser: Any, server: Server
) -> None:
    requests = await browser.new_page()
    for subject in ("Printer jams", "VPN drops every hour", "Projector shows no picture"):
        await _submit_request(requests, server, subject)
    email = await _staff(server, "agent", "Alex Agent")
    page = await _queue(browser, server, email)
    first, second, third = await page.evaluate(ROWS)

    await page.keyboard.press("j")
    await page.keyboard.press("j")
    assert await page.evaluate(CURSOR) == {"ids": [second], "focused": second}

    # The ticket above the highlighted one is closed elsewhere: the list is replaced, the highlighted ticket
    # moves up a row and keeps its highlight and the focus (not the row that took its old place).
    other = await _queue(browser, server, email)
    await _close_elsewhere(other, server, first)
    await page.wait_for_function(f"{ROWS}.length === 2", timeout=10_000)
    assert await page.evaluate(ROWS) == [second, third]
    assert await page.evaluate(CURSOR) == {"ids": [second], "focused": second}
    await page.screenshot(path=str(SHOTS / "queue-cursor-after-refresh.png"), full_page=True)

    # The highlighted ticket itself leaves the list: the ticket now in its place is highlighted, and j/k go on
    # from there.
    await _close_elsewhere(other, server, second)
    await page.wait_for_function(f"{ROWS}.length === 1", timeout=10_000)
    assert await page.evaluate(CURSOR) == {"ids": [third], "focused": third}
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"**/agent/tickets/{third}")
    await other.close()
    await requests.close()
    await page.close()
