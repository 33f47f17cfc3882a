"""The translation catalogs keep up with the code: every marked string is translated in all four languages.

The template is extracted in memory with babel.cfg, exactly as `make messages` does, so a string added to a
template or to Python code fails here until translators have filled it in every catalog.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import PYTHON_FORMAT, Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from backend.core.i18n import DOMAIN, LANGUAGES

ROOT = Path(__file__).resolve().parents[2]
MAPPING_FILE = ROOT / "babel.cfg"
LOCALE_DIR = ROOT / "frontend" / "locale"
COMMENT_TAGS = ("TRANSLATORS:",)
# Below this share, a catalog is probably English copied over rather than translated.
MIN_TRANSLATED_SHARE = 0.9
OFFICIAL_LANGUAGES = tuple(language for language in LANGUAGES if language != "en")

# As babel types msgids and msgstrs: a string, or the singular and plural forms.
MessageId = str | tuple[str, ...] | list[str]


def _extract_template() -> Catalog:
    """What `pybabel extract -F babel.cfg .` would write to messages.pot, without writing anything."""
    with MAPPING_FILE.open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle, str(MAPPING_FILE))  # type: ignore[no-untyped-call]
    template = Catalog(domain=DOMAIN)
    for filename, lineno, message, comments, context in extract_from_dir(
        ROOT, method_map, options_map, keywords=DEFAULT_KEYWORDS, comment_tags=COMMENT_TAGS, strip_comment_tags=True
    ):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


@pytest.fixture(scope="module")
def template() -> Catalog:
    extracted = _extract_template()
    assert len(extracted) > 0, "nothing was extracted: is babel.cfg still pointing at the templates and code?"
    return extracted


def _read_catalog(language: str) -> Catalog:
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    assert path.exists(), f"[{language}] {path.relative_to(ROOT)} is missing: run `make messages`"
    with path.open("rb") as handle:
        return read_po(handle, locale=language, domain=DOMAIN)


def _messages(catalog: Catalog) -> Iterator[Message]:
    """The catalog's entries, without the header."""
    return (message for message in catalog if message.id)


def _singular(message_id: MessageId) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


def _forms(string: MessageId | None) -> tuple[str, ...]:
    """Every form of a msgid or msgstr: one for a plain message, one per plural form otherwise."""
    if string is None:
        return ()
    return (string,) if isinstance(string, str) else tuple(string)


def _placeholders(text: str) -> Counter[str]:
    """The %-placeholders of a text, `%%` included, as newstyle gettext and `%` formatting see them."""
    return Counter(match.group(0) for match in PYTHON_FORMAT.finditer(text))


def _describe(language: str, message_id: MessageId, context: str | None = None) -> str:
    where = f" (context {context!r})" if context else ""
    return f"[{language}] {_singular(message_id)!r}{where}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated(template: Catalog, language: str) -> None:
    catalog = _read_catalog(language)
    problems: list[str] = []
    for message in _messages(template):
        entry = catalog.get(message.id, message.context)
        label = _describe(language, message.id, message.context)
        if entry is None:
            problems.append(f"{label} is missing from the catalog: run `make messages` and translate it")
        elif entry.fuzzy:
            problems.append(f"{label} is marked fuzzy: check the translation and remove the fuzzy flag")
        elif not _forms(entry.string) or not all(form.strip() for form in _forms(entry.string)):
            problems.append(f"{label} has an empty msgstr")
    assert not problems, f"{len(problems)} untranslated message(s):\n" + "\n".join(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_the_placeholders(template: Catalog, language: str) -> None:
    catalog = _read_catalog(language)
    problems: list[str] = []
    for message in _messages(template):
        entry = catalog.get(message.id, message.context)
        if entry is None:
            continue  # reported by test_every_message_is_translated
        label = _describe(language, message.id, message.context)
        if message.python_format != entry.python_format:
            problems.append(f"{label}: the python-format flag differs from the source; run `make messages`")
        expected = [_placeholders(text) for text in _forms(message.id)]
        for form in _forms(entry.string):
            if not form:
                continue  # reported by test_every_message_is_translated
            found = _placeholders(form)
            if message.pluralizable:
                # A plural form may leave out the count, but may use nothing the msgids do not have.
                allowed = expected[0] | expected[-1]
                ok = found.keys() <= allowed.keys()
            else:
                ok = found == expected[0]
            if not ok:
                problems.append(
                    f"{label}: msgstr {form!r} has placeholders {sorted(found.elements())}, "
                    f"msgid has {sorted(expected[-1].elements())} (a literal % is written %% in every language)"
                )
    assert not problems, f"{len(problems)} placeholder mismatch(es):\n" + "\n".join(problems)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_obsolete_or_stale_entries(template: Catalog, language: str) -> None:
    catalog = _read_catalog(language)
    obsolete = [_describe(language, message_id) for message_id in catalog.obsolete]
    assert not obsolete, "obsolete (#~) entries left in the catalog; remove them:\n" + "\n".join(obsolete)
    stale = [
        _describe(language, message.id, message.context)
        for message in _messages(catalog)
        if template.get(message.id, message.context) is None
    ]
    assert not stale, "entries no longer used by the code or templates; run `make messages`:\n" + "\n".join(stale)


@pytest.mark.parametrize("language", OFFICIAL_LANGUAGES)
def test_official_languages_are_not_english_copies(template: Catalog, language: str) -> None:
    catalog = _read_catalog(language)
    compared = 0
    copied: list[str] = []
    for message in _messages(template):
        entry = catalog.get(message.id, message.context)
        if entry is None or not entry.string:
            continue  # reported by test_every_message_is_translated
        compared += 1
        if _forms(entry.string) == _forms(message.id):
            copied.append(_describe(language, message.id, message.context))
    assert compared, f"[{language}] no translated entries to compare"
    share = 1 - len(copied) / compared
    assert share >= MIN_TRANSLATED_SHARE, (
        f"[{language}] only {share:.0%} of entries differ from the English msgid "
        f"(at least {MIN_TRANSLATED_SHARE:.0%} expected); still in English:\n" + "\n".join(copied)
    )


def test_english_catalog_copies_the_msgids(template: Catalog) -> None:
    catalog = _read_catalog("en")
    differing = [
        f"{_describe('en', message.id, message.context)} has msgstr {entry.string!r}"
        for message in _messages(template)
        if (entry := catalog.get(message.id, message.context)) is not None
        and entry.string
        and _forms(entry.string) != _forms(message.id)
    ]
    assert not differing, "the English msgstr should repeat the msgid (change the source text instead):\n" + (
        "\n".join(differing)
    )
