"""Which word of a queue search the subject index is asked for: the one most likely to be rare."""

from __future__ import annotations

import pytest

from helpdesk.tickets.queries import search_word


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("request 777777:", "777777"),  # a number before a longer common word
        ("printer jams on floor 3", "printer"),  # letters only: the longest
        ("HD-1042", "1042"),
        ("Ошибка принтера", "принтера"),
        ("vpn", "vpn"),
        ("a b", None),  # no trigram to look up
    ],
)
def test_the_index_is_asked_for_the_word_most_likely_to_be_rare(text: str, word: str | None) -> None:
    assert search_word(text) == word
