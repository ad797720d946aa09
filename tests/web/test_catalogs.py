"""The translation template lists every string the pages and controllers mark for translation, and Russian
translates each of them: a string wrapped in ``_``/``N_`` but missing from the catalogs reads in English on a
Russian page, and nothing else would notice.

When the first test fails, regenerate the template with the command from the README (the one ``babel.cfg``
names), then translate the new strings in ``ru`` (``pybabel update`` or by hand).
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "helpdesk" / "web" / "locale"
EXTRACT = (
    "pybabel extract -F babel.cfg -k N_ --no-location --omit-header -o helpdesk/web/locale/messages.pot ."
)
Key = tuple[str | None, str | tuple[str, ...]]


def _catalog(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _extracted() -> set[Key]:
    """What ``pybabel extract`` finds, by (context, id); a plural string's id is its singular and plural."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found: set[Key] = set()
    for _file, _line, message, _comments, context in extract_from_dir(
        str(ROOT),
        method_map,
        options_map,
        keywords={"_": None, "gettext": None, "ngettext": (1, 2), "N_": None},
    ):
        found.add((context, message if isinstance(message, str) else tuple(part or "" for part in message)))
    return found


def _listed(catalog: Catalog) -> set[Key]:
    return {
        (message.context, message.id if isinstance(message.id, str) else tuple(message.id))
        for message in catalog
        if message.id
    }


def test_the_translation_template_lists_exactly_the_strings_marked_for_translation() -> None:
    extracted, listed = _extracted(), _listed(_catalog(LOCALE / "messages.pot"))
    assert extracted, "nothing extracted: babel.cfg no longer matches the sources"
    missing = sorted(str(key[1]) for key in extracted - listed)
    stale = sorted(str(key[1]) for key in listed - extracted)
    assert (missing, stale) == ([], []), f"messages.pot is out of date; run: {EXTRACT}"


def test_russian_translates_every_string_of_the_template_in_every_plural_form() -> None:
    russian = _catalog(LOCALE / "ru" / "LC_MESSAGES" / "messages.po", "ru")
    untranslated = []
    for context, message_id in sorted(_listed(_catalog(LOCALE / "messages.pot")), key=str):
        plural = not isinstance(message_id, str)
        entry = russian.get(message_id[0] if plural else message_id, context)
        forms = [] if entry is None else list(entry.string) if plural else [entry.string]
        if (
            entry is None
            or entry.fuzzy
            or len(forms) != (russian.num_plurals if plural else 1)
            or not all(forms)
        ):
            untranslated.append(message_id)
    assert untranslated == []
