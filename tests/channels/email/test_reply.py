"""Reply extraction: Russian mailers' quote headers, signatures, interleaved quotes, HTML quote containers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpdesk.channels.email.reply import (
    DEFAULT_LANGUAGES,
    _latest_message,
    extract_reply,
    extract_reply_from_html,
    split_replies,
    strip_signature,
)

ANSWER = "Принтер снова работает, спасибо."
QUOTE = "\n> Здравствуйте, принтер не печатает.\n> Иван"


@pytest.mark.parametrize(
    "header",
    [
        "Понедельник, 26 июня 2014, 14:41 +04:00 от Иван Петров <ivan@example.ru>:",  # mail.ru
        "Thu, 26 Jun 2014 14:00:51 +0400 от Alexander L <abc@example.com>:",  # mail.ru, English date
        '26.06.2014, 14:41, "Иван Петров" <ivan@example.ru>:',  # Yandex
        "26 июня 2014 г., в 14:41, Иван Петров <ivan@example.ru> написал(а):",  # Apple Mail ru
        "26 июня 2014 г., 14:41 пользователь Иван Петров <ivan@example.ru>\nнаписал:",  # Gmail ru, wrapped
        "Иван Петров пишет:",
        "-----Исходное сообщение-----\nОт: Иван Петров [mailto:ivan@example.ru]\nОтправлено: 26 июня 2014 г. 14:41",
        "От: Иван Петров <ivan@example.ru>\nДата: 26.06.2014 14:41\nКому: help@example.com\nТема: Принтер",
        "________________________________\nОт: Иван Петров <ivan@example.ru>\nОтправлено: 26 июня 2014 г. 14:41",
    ],
)
def test_russian_quote_headers_end_the_reply(header: str) -> None:
    text = f"{ANSWER}\n\n{header}\n{QUOTE}\n"

    assert extract_reply(text) == ANSWER


@pytest.mark.parametrize(
    "signature",
    [
        "--\nИван Петров\nтел. 123",
        "С уважением,\nИван",
        "Отправлено с iPhone",
        "Отправлено из мобильной Почты Mail.ru",
        "Sent from my iPhone",
        "Get Outlook for Android",
    ],
)
def test_signatures_are_stripped(signature: str) -> None:
    assert strip_signature(f"{ANSWER}\n\n{signature}") == ANSWER
    assert extract_reply(f"{ANSWER}\n\n{signature}") == ANSWER
    assert extract_reply(f"{ANSWER}\n\n{signature}", keep_signature=True) != ANSWER


def test_a_bottom_posted_reply_keeps_the_answers_and_drops_the_quote() -> None:
    text = "On Mon, Ann <ann@example.com> wrote:\n> Is it fixed?\n\nYes, fixed.\n"

    assert extract_reply(text) == "Yes, fixed."


def test_a_reply_that_is_only_a_quote_falls_back_to_the_whole_text() -> None:
    text = "> only a quote\n> nothing else"

    assert extract_reply(text) == text


def test_an_empty_body_gives_an_empty_reply() -> None:
    assert extract_reply("  \n") == ""


@pytest.mark.parametrize(
    "markup",
    [
        '<div>Готово</div><div class="gmail_quote">26 июня, Иван написал:<blockquote>старое</blockquote></div>',
        '<div>Готово</div><div id="divRplyFwdMsg"><b>От:</b> Иван</div><div>старое</div>',
        '<div>Готово</div><div class="moz-cite-prefix">Иван wrote:</div><blockquote>старое</blockquote>',
        "<p>Готово</p><p>26.06.2014, 14:41, Иван &lt;i@example.ru&gt;:</p><blockquote>старое</blockquote>",
        '<div>Готово</div><div style="border:none;border-top:solid #B5C4DF 1.0pt"><b>От:</b></div>старое',
        "<div>Готово</div><hr><b>From:</b> Ivan<br>старое",
        '<div>Готово</div><div data-marker="__QUOTED_TEXT__">старое</div>',
    ],
)
def test_html_quote_containers_are_removed_before_conversion(markup: str) -> None:
    assert extract_reply_from_html(markup) == "Готово"


def test_html_scripts_and_styles_never_reach_the_text() -> None:
    markup = "<html><head><style>p{}</style><title>t</title></head><body><script>x()</script><p>Hi</p></body></html>"

    assert extract_reply_from_html(markup) == "Hi"


_REPLY_LINES = [
    "Thanks, that fixed it.", "", "> quoted line", "On Mon, 1 Mar 2027 at 09:00, Ivan <ivan@example.com> wrote:",
    "-----Original Message-----", "From: Ivan <ivan@example.com>", "Sent: Monday", "Subject: printer",
    "-- ", "Sent from my iPhone", "26.06.2014, 14:41, \"Иван\" <ivan@example.ru>:", "Привет", "___________",
    "Am 01.03.2027 um 09:00 schrieb Ivan:", "Best regards,", "Le lun. 1 mars 2027, Ivan a écrit :",
]  # fmt: skip


@given(st.lists(st.sampled_from(_REPLY_LINES), max_size=25), st.sampled_from(["\n", "\r\n"]))
def test_the_first_message_is_read_as_split_replies_reads_it(lines: list[str], newline: str) -> None:
    # extract_reply reads only the first message, without splitting the rest of the chain; the answer
    # must be the one mail-parser-reply's full split gives.
    text = newline.join(lines)

    assert _latest_message(text, DEFAULT_LANGUAGES) == split_replies(text)[0].content
