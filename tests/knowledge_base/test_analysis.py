from __future__ import annotations

import pytest

from knowledge_base.analysis import (
    analyze,
    char_ngrams,
    detect_language,
    normalize,
    split_passages,
    tokenize,
    word_bigrams,
)


@pytest.mark.parametrize(
    ("forms", "language"),
    [
        (["принтер", "принтера", "принтеру", "принтером", "Принтеры"], "ru"),
        (["оплата", "оплаты", "оплату", "оплатой"], "ru"),
        (["refund", "refunds", "refunded", "refunding"], "en"),
        (["activate", "activated", "activating", "activation"], "en"),
    ],
)
def test_inflected_forms_of_one_word_share_one_term(forms: list[str], language: str) -> None:
    terms = {tuple(analyze(form)) for form in forms}
    assert len(terms) == 1, terms
    assert detect_language(" ".join(forms)) == language


def test_yo_and_ye_spellings_and_letter_case_give_the_same_terms() -> None:
    assert analyze("Ёлка ЗЕЛЁНАЯ") == analyze("елка зеленая")
    assert normalize("ЁЖ") == "еж"


def test_nfkc_normalisation_folds_compatibility_characters() -> None:
    assert normalize("ＡＢＣ ﬁle") == "abc file"
    assert analyze("Ｅｒｒｏｒ") == analyze("error")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("error E-1042 again", ["e-1042", "e1042"]),
        ("code 0x80070005 from Windows", ["0x80070005"]),
        ("ERR_CONNECTION_REFUSED_42", ["err_connection_refused_42", "errconnectionrefused42"]),
        ("update to v2.3.1 now", ["v2.3.1", "v231"]),
    ],
)
def test_error_codes_and_versions_stay_single_tokens(text: str, expected: list[str]) -> None:
    tokens = tokenize(text)
    for token in expected:
        assert token in tokens
    assert "1042" not in tokens


def test_code_written_without_its_hyphen_meets_the_hyphenated_form() -> None:
    assert set(analyze("E1042")) <= set(analyze("Error E-1042 on start"))


def test_hyphenated_words_match_their_joined_and_split_spellings() -> None:
    assert "topup" in tokenize("top-up")
    assert {"top", "up"} <= set(tokenize("top-up"))


def test_english_negation_survives_as_not() -> None:
    assert "not" in analyze("My card isn't working")
    assert "not" in analyze("I can't log in")


def test_stop_words_are_dropped_in_both_languages_but_negation_kept() -> None:
    assert analyze("the card is in my wallet") == analyze("card wallet")
    assert "не" in analyze("карта не работает")
    assert "мне" not in analyze("мне нужна карта")


def test_mixed_script_text_stems_each_word_by_its_own_script() -> None:
    assert analyze("Не работает Apple Pay") == ["не", "работа", "appl", "pay"]


@pytest.mark.parametrize(
    ("text", "language"),
    [("Как сбросить пароль?", "ru"), ("How do I reset my password?", "en"), ("12345", "en")],
)
def test_language_is_detected_by_script(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_passages_split_on_sentences_and_glue_fragments() -> None:
    assert split_passages("Where is it. A while ago I asked for a refund! Thanks") == [
        "Where is it.",
        "A while ago I asked for a refund! Thanks",
    ]
    assert split_passages("One line\nAnother line here") == ["One line Another line here"]


def test_bigrams_and_character_ngrams() -> None:
    assert word_bigrams(["card", "declin", "why"]) == ["card declin", "declin why"]
    assert char_ngrams("the card", 4) == ["#car", "card", "ard#"]
    assert char_ngrams("ok", 4) == ["#ok#"]
