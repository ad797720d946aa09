"""The staff pages on a phone in a real browser (Debian's chromium driven by Playwright): at 375 px nothing makes
the page scroll sideways, in English and Russian; the queue's table turns into one card per ticket that still
shows the countdown, reference, subject, priority and status, and its keyboard keys and live updates keep
working; the administration's lists and the flagged mail become a card per row, each cell under its column's
name. At 1280 px they are all still tables.

Screenshots land in test-output/screenshots/ (phone-queue-ru-375.png, phone-queue-en-1280.png, ...).
"""

from __future__ import annotations

import json
import os
from email.message import EmailMessage
from typing import Any

import pytest
from test_browser_journeys import PASSWORD, SHOTS, Server, _sign_in, _submit_request, browser, server

from helpdesk.core.settings import Settings
from helpdesk.web.i18n import translations

pytestmark = pytest.mark.browser
__all__ = ["browser", "server"]  # the journeys' fixtures: a server on the test database, and chromium

LONG_SUBJECT = "Рентгеновский аппарат в процедурном кабинете перезагружается каждые десять минут"
# The staff pages an agent or a manager opens; {ticket} is a ticket's id.
PAGES = [
    "/agent",
    "/agent?view=all",
    "/agent/tickets/{ticket}",
    "/agent/new",
    "/agent/dispatch",
    "/agent/inbound-mail",
    "/agent/canned",
    "/manager",
    "/settings",
]
# How far the page reaches sideways, and the widest elements (to say what overflows when it does).
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('body *')]
    .filter(el => el.getBoundingClientRect().right > width + 1 && el.checkVisibility())
    .map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + '.' + [...el.classList].join('.')
         + ' ' + Math.round(el.getBoundingClientRect().right))
    .slice(0, 8);
  return {scrollWidth: document.documentElement.scrollWidth, width, wide};
}"""


async def _desk(server: Server, language: str) -> tuple[str, int]:
    """A manager with a long name in ``language``, colleagues with long names (the bulk bar's choices) and a
    ticket with a long subject and tags assigned to the manager; returns the manager's e-mail and the ticket."""
    from helpdesk.accounts.models import Role
    from helpdesk.accounts.principal import Principal
    from helpdesk.accounts.schemas import UserUpdate
    from helpdesk.accounts.service import AccountService
    from helpdesk.accounts.staff import StaffService
    from helpdesk.runtime import start_runtime, stop_runtime
    from helpdesk.tickets.rules import Channel
    from helpdesk.tickets.schemas import TicketCreate
    from helpdesk.tickets.service import TicketService

    runtime = await start_runtime(Settings(database_url=server.database_url), in_process_jobs=True)
    try:
        tag = os.urandom(3).hex()
        accounts = AccountService(runtime)
        email = f"manager-{tag}@staff.example"
        user = await accounts.create_user(
            email=email, name="Александра Константинопольская", role="manager", password=PASSWORD
        )
        await StaffService(runtime).update_user(user.id, UserUpdate(language=language))  # type: ignore[arg-type]
        await accounts.create_user(
            email=f"agent-{tag}@staff.example",
            name="Максимилиан Вольфгангович Шварценеггер-Долгоруков",
            role="agent",
            password=PASSWORD,
        )
        staff = Principal(user_id=user.id, role=Role.MANAGER, name="Александра")
        ticket = await TicketService(runtime).open_ticket(
            staff,
            TicketCreate(
                subject=LONG_SUBJECT,
                description="Аппарат перезагружается, снимки теряются.",
                customer_email=f"glavvrach-{tag}@poliklinika-nomer-odin.example",
                customer_name="Поликлиника № 1 имени Пирогова, регистратура",
                priority="P1",
                tags=["рентген", "onsite-urgent"],
            ),
            channel=Channel.PHONE,
        )
        return email, ticket.id
    finally:
        await stop_runtime(runtime)


async def _signed_in(browser: Any, server: Server, email: str, width: int) -> Any:
    context = await browser.new_context(viewport={"width": width, "height": 800})
    page = await context.new_page()
    await _sign_in(page, server, email)
    await page.wait_for_url("**/manager")
    return page


async def _overflowing(
    page: Any, server: Server, paths: list[str], language: str, **fields: Any
) -> dict[str, Any]:
    """Opens each of ``paths`` (its {fields} filled in) on ``page``, screenshots it as
    phone-<path>-<language>-375.png, and returns what OVERFLOW measured on the pages wider than the viewport, by
    path."""
    overflowing = {}
    for path in paths:
        await page.goto(server.url + path.format(**fields), wait_until="load")
        name = path.strip("/").replace("/", "-").replace("?view=", "-").replace("{ticket}", "ticket")
        await page.screenshot(path=str(SHOTS / f"phone-{name}-{language}-375.png"), full_page=True)
        measured = await page.evaluate(OVERFLOW)
        if measured["scrollWidth"] > measured["width"]:
            overflowing[path] = measured
    return overflowing


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_no_staff_page_scrolls_sideways_on_a_phone(browser: Any, server: Server, language: str) -> None:
    email, ticket = await _desk(server, language)
    page = await _signed_in(browser, server, email, 375)
    overflowing = await _overflowing(page, server, PAGES, language, ticket=ticket)
    assert not overflowing, json.dumps(overflowing, indent=1, ensure_ascii=False)
    await page.context.close()


# Each shown cell of the queue's first row: whether it is visible and inside the viewport, and its box.
ROW = """(width) => {
  const row = document.querySelector('#rows tr[data-id]');
  const cell = (selector) => {
    const el = row.querySelector(selector);
    const box = el.getBoundingClientRect();
    return {text: el.textContent.trim(), visible: el.checkVisibility() && box.width > 0, top: box.top,
            inside: box.left >= 0 && box.right <= width};
  };
  return {countdown: cell('.countdown'), reference: cell('.ref'), subject: cell('td.subject a'),
          priority: cell('.prio'), status: cell('.badge'),
          headers: [...document.querySelectorAll('table.queue thead th')].filter(th => th.checkVisibility()).length,
          scrollWidth: document.documentElement.scrollWidth};
}"""


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_the_queue_is_a_card_per_ticket_on_a_phone_and_a_table_on_a_laptop(
    browser: Any, server: Server, language: str
) -> None:
    email, _ = await _desk(server, language)
    for width in (375, 1280):
        page = await _signed_in(browser, server, email, width)
        await page.goto(f"{server.url}/agent?view=all", wait_until="load")
        await page.screenshot(path=str(SHOTS / f"phone-queue-{language}-{width}.png"), full_page=True)
        row = await page.evaluate(ROW, width)
        shown = [row[key] for key in ("countdown", "reference", "subject", "priority", "status")]
        assert all(cell["visible"] and cell["inside"] for cell in shown), shown
        assert row["scrollWidth"] <= width
        if width == 375:
            assert row["headers"] == 1  # the select-all box; a card needs no column headers
            assert row["subject"]["top"] > row["countdown"]["top"]  # the subject under the countdown line
            assert not await page.eval_on_selector("details.filter-panel", "panel => panel.open")
        else:
            assert row["headers"] == 9
            assert row["subject"]["top"] == pytest.approx(row["countdown"]["top"], abs=8)
            assert await page.eval_on_selector("details.filter-panel", "panel => panel.open")
        await page.context.close()


async def test_on_a_phone_the_queue_keys_and_live_updates_still_work(browser: Any, server: Server) -> None:
    email, _ = await _desk(server, "en")
    page = await _signed_in(browser, server, email, 375)
    await page.goto(f"{server.url}/agent?view=all", wait_until="load")

    await page.keyboard.press("j")
    await page.keyboard.press("x")
    cursor = await page.get_attribute("#rows tr.cursor", "data-id")
    focused = await page.evaluate("document.activeElement.closest('tr')?.dataset.id")
    assert cursor is not None
    assert focused == cursor
    assert await page.is_checked(f"#rows tr[data-id='{cursor}'] input[type=checkbox]")

    # A request arrives: it appears as a card without a reload, and the ticked box stays ticked.
    other = await browser.new_page()
    await _submit_request(other, server, "Scanner is offline")
    await page.wait_for_selector("#rows tr.fresh >> text=Scanner is offline", timeout=10_000)
    assert await page.is_checked(f"#rows tr[data-id='{cursor}'] input[type=checkbox]")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 375
    await page.screenshot(path=str(SHOTS / "phone-queue-live-375.png"), full_page=True)

    await page.keyboard.press("j")
    await page.keyboard.press("k")
    opened = await page.get_attribute("#rows tr.cursor", "data-href")
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"**{opened}")
    await other.close()
    await page.context.close()


# The administration's pages and the flagged mail: those with a list show it as cards on a phone.
CARD_PAGES = {"/agent/inbound-mail": "Received", "/admin": "Name", "/admin/mailboxes": "Name"}
CARD_PAGES |= {"/admin/kb-categories": "Name"}
ADMIN_PAGES = [*CARD_PAGES, "/admin/sla", "/admin/technicians"]
# The first row of the page's card table: its shown cells' tops and the names they carry on screen.
CARDS = """() => {
  const table = document.querySelector('table.cards');
  const row = table.querySelector('tbody tr');
  const cells = [...row.children].filter(td => td.checkVisibility());
  const box = row.getBoundingClientRect();
  return {header: table.tHead.getBoundingClientRect().height, left: box.left, right: box.right,
          tops: cells.map(td => Math.round(td.getBoundingClientRect().top)),
          labels: cells.map(td => getComputedStyle(td, '::before').content)};
}"""


async def _admin_desk(browser: Any, server: Server, language: str, width: int) -> Any:
    """An admin in ``language`` signed in at ``width`` px, with long unbroken names on every list: a user, a
    flagged mail, an IMAP mailbox and two knowledge-base categories."""
    from helpdesk.accounts.schemas import UserUpdate
    from helpdesk.accounts.service import AccountService
    from helpdesk.accounts.staff import StaffService
    from helpdesk.channels.email.imap import add_mailbox
    from helpdesk.channels.email.models import InboundSource
    from helpdesk.channels.email.service import MailService
    from helpdesk.runtime import start_runtime, stop_runtime

    tag = os.urandom(3).hex()
    email = f"administrator-{tag}@poliklinika-imeni-pirogova-nomer-odin.example"
    runtime = await start_runtime(Settings(database_url=server.database_url), in_process_jobs=True)
    try:
        user = await AccountService(runtime).create_user(
            email=email, name="Александра Константинопольская", role="admin", password=PASSWORD
        )
        await StaffService(runtime).update_user(user.id, UserUpdate(language=language))  # type: ignore[arg-type]
        await add_mailbox(
            runtime,
            name=f"Регистратура-{tag}",
            host="imap.poliklinika-imeni-pirogova-nomer-odin.example",
            port=993,
            username=f"registratura-{tag}@poliklinika-imeni-pirogova-nomer-odin.example",
            password="secret",
        )
        mail = MailService(runtime)
        message = EmailMessage()
        message["From"] = f"Главный врач <glavvrach-{tag}@poliklinika-imeni-pirogova-nomer-odin.example>"
        message["To"] = "support@helpdesk.localhost"
        message["Subject"] = LONG_SUBJECT
        message["Message-ID"] = f"<{tag}@poliklinika.example>"
        message.set_content("Аппарат перезагружается.")
        raw = bytes(message)
        stored = await mail.store(raw, InboundSource.PIPE, enqueue=False)
        await mail.flag(stored.id, "held for a look by the administrator of the polyclinic")
    finally:
        await stop_runtime(runtime)
    page = await (await browser.new_context(viewport={"width": width, "height": 800})).new_page()
    await _sign_in(page, server, email)
    await page.wait_for_load_state("load")
    for name in (f"Рентгенологическое-оборудование-{tag}", f"Флюорография-{tag}"):
        await page.goto(f"{server.url}/admin/kb-categories", wait_until="load")
        await page.fill("#new-name", name)
        await page.click("section[aria-labelledby=new-cat-h] button[type=submit]")
        await page.wait_for_load_state("load")
    return page


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_no_admin_page_nor_the_flagged_mail_scrolls_sideways_on_a_phone(
    browser: Any, server: Server, language: str
) -> None:
    page = await _admin_desk(browser, server, language, 375)
    overflowing = await _overflowing(page, server, ADMIN_PAGES, language)
    assert not overflowing, json.dumps(overflowing, indent=1, ensure_ascii=False)
    await page.context.close()


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_the_admin_lists_and_flagged_mail_are_a_card_per_row_on_a_phone_and_tables_on_a_laptop(
    browser: Any, server: Server, language: str
) -> None:
    gettext = translations(language).gettext
    page = await _admin_desk(browser, server, language, 375)
    for width in (375, 1280):
        await page.set_viewport_size({"width": width, "height": 800})
        for path, first_label in CARD_PAGES.items():
            await page.goto(server.url + path, wait_until="load")
            card = await page.evaluate(CARDS)
            if width == 375:
                # The column headers leave the screen; the cells stand one under another inside the viewport,
                # each under its column's name in the reader's language.
                assert card["header"] <= 1, path
                assert card["left"] >= 0, (path, card)
                assert card["right"] <= width, (path, card)
                assert card["tops"] == sorted(set(card["tops"])), (path, card)
                assert card["labels"][0] == f'"{gettext(first_label)}"', (path, card)
                assert language == "en" or gettext(first_label) != first_label
            else:
                assert card["header"] > 10, path
                assert len(set(card["tops"])) == 1, (path, card)  # one line: a table row
                assert set(card["labels"]) == {"none"}, (path, card)
    await page.context.close()
