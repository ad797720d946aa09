"""Language-aware text analysis for knowledge-base search (pure, no I/O).

One pipeline serves articles and queries so both sides produce the same terms:

1. ``normalize``: Unicode NFKC, case folding, ``ё`` → ``е``, typographic apostrophes → ``'``.
2. ``tokenize``: words, numbers and error codes. A run of letters/digits joined by ``-``, ``_``, ``.``
   or ``:`` that contains a digit (``E-1042``, ``0x80070005``, ``ERR_404``, ``v2.3.1``) stays one token,
   and its separator-free spelling (``e1042``) is emitted too, so ``E1042`` finds ``E-1042``. A
   hyphenated word without digits (``top-up``) yields its parts and the joined form (``topup``).
   English ``n't`` contractions yield ``not`` because negation changes the meaning of support questions.
3. ``analyze``: stop words removed, each token stemmed by the Snowball stemmer of its own script
   (Cyrillic → Russian, Latin → English), so mixed text such as "Не работает Apple Pay" is handled
   without a language flag. Codes and numbers are never stemmed.

``detect_language`` guesses ``"ru"`` or ``"en"`` from the script when the caller does not know it.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache

import snowballstemmer

SUPPORTED_LANGUAGES: frozenset[str] = frozenset({"en", "ru"})

# Short, deliberately conservative lists: negations and question words ("not", "why", "нет", "почему")
# are kept because they separate intents like "card not working" from "how does the card work".
ENGLISH_STOP_WORDS: frozenset[str] = frozenset(
    """
    a an the and or but if then so than that this these those there here it its it's itself
    i i'm i've i'd i'll me my mine myself we we're we've our ours us you you're you've your yours
    he him his she her hers they them their theirs
    am is are was were be been being do does did doing have has had having
    of to in on at by for with about from into onto over under as up out off
    will would shall should can could may might must
    just very too also please hi hello hey thanks thank
    """.split()  # noqa: SIM905 - a word list reads better as text
)
RUSSIAN_STOP_WORDS: frozenset[str] = frozenset(
    """
    и а но или да же ли бы то это этот эта эти тот та те там тут вот
    я меня мне мной мой моя моё мое мои моего моей моих моим моему
    ты тебя тебе твой твоя твои вы вас вам вами ваш ваша ваше ваши вашего вашей
    он его ему им она ее её ей они их ими мы нас нам нами наш наша наше наши
    в во на с со к ко по о об от до из у за для при про над под через
    быть был была было были есть будет
    здравствуйте привет пожалуйста спасибо
    """.split()  # noqa: SIM905 - a word list reads better as text
)
STOP_WORDS: frozenset[str] = ENGLISH_STOP_WORDS | RUSSIAN_STOP_WORDS
# Kept for ranking (they tell intents apart) but never evidence that an article is on topic.
WEAK_TERMS: frozenset[str] = frozenset(
    """
    what how why when where which who whi not no can get want need know help
    что как почему когда где какой кто не нет мочь можно нужно хочу
    """.split()  # noqa: SIM905 - a word list reads better as text
)

_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "`": "'", "´": "'", "ё": "е"})
# A chunk is letters/digits optionally glued by in-word separators; apostrophes stay inside words.
_CHUNK = re.compile(r"[^\W_]+(?:['][^\W_]+)*(?:[-_.:/][^\W_]+(?:['][^\W_]+)*)*")
_SEPARATORS = re.compile(r"[-_.:/]")
_CYRILLIC = re.compile(r"[а-я]")
_LATIN = re.compile(r"[a-z]")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\s*\n+\s*")

_STEMMERS = {
    "en": snowballstemmer.stemmer("english"),
    "ru": snowballstemmer.stemmer("russian"),
}
_IRREGULAR_NEGATIONS = {"can't": "can", "won't": "will", "shan't": "shall", "cannot": "can"}


def normalize(text: str) -> str:
    """Return ``text`` in NFKC form, case-folded, with ``ё`` folded to ``е`` and one apostrophe kind."""
    return unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES)


def _split_contraction(word: str) -> Iterator[str]:
    if word in _IRREGULAR_NEGATIONS:
        yield _IRREGULAR_NEGATIONS[word]
        yield "not"
    elif word.endswith("n't") and len(word) > 3:
        yield word[:-3]
        yield "not"
    else:
        yield word


def tokenize(text: str) -> list[str]:
    """Split text into normalised tokens; error codes and version numbers survive as single tokens.

    Guarantees: every token is non-empty and already ``normalize``d; order follows the text.
    """
    tokens: list[str] = []
    for match in _CHUNK.finditer(normalize(text)):
        chunk = match.group()
        parts = [part for part in _SEPARATORS.split(chunk) if part]
        if len(parts) == 1:
            tokens.extend(_split_contraction(chunk))
        elif any(char.isdigit() for char in chunk):
            # An error code: the exact spelling and the separator-free one, never its pieces,
            # because "1042" alone would also match unrelated numbers.
            tokens.append(chunk)
            tokens.append("".join(parts))
        else:
            for part in parts:
                tokens.extend(_split_contraction(part))
            tokens.append("".join(parts))
    return tokens


def script_of(token: str) -> str | None:
    """Return ``"ru"`` for a Cyrillic token, ``"en"`` for a Latin one, ``None`` for digits and symbols."""
    if _CYRILLIC.search(token):
        return "ru"
    if _LATIN.search(token):
        return "en"
    return None


def detect_language(text: str, default: str = "en") -> str:
    """Guess ``"ru"`` or ``"en"`` by counting Cyrillic against Latin letters; ``default`` on a tie."""
    folded = normalize(text)
    cyrillic = len(_CYRILLIC.findall(folded))
    latin = len(_LATIN.findall(folded))
    if cyrillic == latin:
        return default
    return "ru" if cyrillic > latin else "en"


@lru_cache(maxsize=200_000)
def stem(token: str) -> str:
    """Stem one normalised token with the Snowball stemmer of its script; codes and numbers unchanged."""
    if any(char.isdigit() for char in token):
        return token
    language = script_of(token)
    if language is None:
        return token
    return str(_STEMMERS[language].stemWord(token))


def analyze(text: str) -> list[str]:
    """Return the index terms of ``text``: tokens minus stop words, each stemmed by its script.

    The same text always gives the same terms, independent of any language flag, so an article and
    a query written in different scripts or mixing them still meet on shared terms.
    """
    return [stem(token) for token in tokenize(text) if token not in STOP_WORDS]


def split_passages(text: str, min_terms: int = 3) -> list[str]:
    """Split a body into sentence-sized passages, gluing a passage of fewer than ``min_terms`` words
    to the next one so that fragments like "Where is it." do not become passages of their own.
    """
    passages: list[str] = []
    pending = ""
    for raw in _SENTENCE_END.split(text):
        sentence = raw.strip()
        if not sentence:
            continue
        pending = f"{pending} {sentence}" if pending else sentence
        if len(pending.split()) >= min_terms:
            passages.append(pending)
            pending = ""
    if pending:
        if passages:
            passages[-1] = f"{passages[-1]} {pending}"
        else:
            passages.append(pending)
    return passages


def word_bigrams(terms: list[str]) -> list[str]:
    """Adjacent pairs of analysed terms ("card declin"), which separate intents sharing single words."""
    return [f"{first} {second}" for first, second in itertools.pairwise(terms)]


def char_ngrams(text: str, size: int = 4) -> list[str]:
    """Character n-grams of each non-stop-word token, padded with ``#`` at word edges.

    They match what stemming misses: misspellings ("recieved"), irregular Russian forms, compounds.
    A token shorter than ``size`` yields itself padded, so short words still count.
    """
    grams: list[str] = []
    for token in tokenize(text):
        if token in STOP_WORDS:
            continue
        padded = f"#{token}#"
        grams.extend(padded[i : i + size] for i in range(max(1, len(padded) - size + 1)))
    return grams
