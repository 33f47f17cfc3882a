"""Languages: the four catalogs, the language of the current request, and negotiation.

Dutch, French and German are Belgium's official languages; English is offered as a courtesy. The catalogs are
gettext `.po` files compiled in memory at start-up, so there is no build step to forget.
"""

from __future__ import annotations

import functools
import gettext as gettext_module
from contextvars import ContextVar
from io import BytesIO
from pathlib import Path
from typing import Final, Literal

from babel import Locale
from babel.core import negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

Language = Literal["nl", "fr", "de", "en"]
LANGUAGES: Final[tuple[Language, ...]] = ("nl", "fr", "de", "en")
# Most Belgians read Dutch; anyone else finds the switcher at the top of every page.
DEFAULT_LANGUAGE: Final[Language] = "nl"
DOMAIN: Final = "messages"
LANGUAGE_COOKIE: Final = "vitrine_lang"

_current: ContextVar[Language] = ContextVar("vitrine_language", default=DEFAULT_LANGUAGE)
_catalogs: dict[str, gettext_module.NullTranslations] = {}
_UNTRANSLATED: Final = gettext_module.NullTranslations()


def load_catalogs(locale_dir: Path) -> None:
    """Compile every `<lang>/LC_MESSAGES/messages.po` under locale_dir and make it current."""
    loaded: dict[str, gettext_module.NullTranslations] = {}
    for language in LANGUAGES:
        po_path = locale_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"
        if not po_path.exists():
            loaded[language] = gettext_module.NullTranslations()
            continue
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=language, domain=DOMAIN)
        buffer = BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        buffer.seek(0)
        loaded[language] = gettext_module.GNUTranslations(buffer)
    _catalogs.clear()
    _catalogs.update(loaded)


def parse_language(value: str | None) -> Language | None:
    """A supported language code from a cookie, a form or a setting, else None."""
    if value is None:
        return None
    code = value.strip().lower()[:2]
    for language in LANGUAGES:
        if language == code:
            return language
    return None


def negotiate(accept_language: str | None) -> Language | None:
    """The best supported language for an Accept-Language header, honouring q-values."""
    if not accept_language:
        return None
    return _negotiated(accept_language)


# Every request negotiates its header, and browsers send a handful of distinct ones: each is parsed once.
@functools.lru_cache(maxsize=1024)
def _negotiated(accept_language: str) -> Language | None:
    preferred: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and quality > 0:
            preferred.append((-quality, position, tag.replace("-", "_")))
    ordered = [tag for _, _, tag in sorted(preferred)]
    # Try exact tags first, then their primary language (nl_BE → nl).
    found = negotiate_locale(ordered, list(LANGUAGES), sep="_") or negotiate_locale(
        [tag.split("_")[0] for tag in ordered], list(LANGUAGES), sep="_"
    )
    return parse_language(found)


def choose_language(*, person_setting: str | None, cookie: str | None, accept_language: str | None) -> Language:
    """The person's own setting wins, then the cookie from the switcher, then the browser."""
    return parse_language(person_setting) or parse_language(cookie) or negotiate(accept_language) or DEFAULT_LANGUAGE


def set_language(language: Language) -> None:
    """Make language current for the rest of this request or job."""
    _current.set(language)


def current_language() -> Language:
    """The language of the current request or job."""
    return _current.get()


def current_catalogue() -> gettext_module.NullTranslations:
    """The translations `gettext` reads for the current language: a new object each time catalogues are loaded,
    so it can key a cache of translated messages."""
    return _catalogs.get(_current.get(), _UNTRANSLATED)


def catalogue(language: Language) -> gettext_module.NullTranslations:
    """The translations of one language, whatever the current one (templates compiled for that language)."""
    return _catalogs.get(language, _UNTRANSLATED)


def gettext(message: str) -> str:
    """Translate message into the current language."""
    return _catalogs.get(_current.get(), _UNTRANSLATED).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """Translate with a plural form chosen by count."""
    catalog = _catalogs.get(_current.get(), _UNTRANSLATED)
    return catalog.ngettext(singular, plural, count)


def pgettext(context: str, message: str) -> str:
    """Translate a message that needs a context to disambiguate it."""
    catalog = _catalogs.get(_current.get(), _UNTRANSLATED)
    return catalog.pgettext(context, message)


@functools.cache
def language_name(language: Language) -> str:
    """A language's name in that language (Nederlands, Français, Deutsch, English)."""
    name = Locale.parse(language).get_display_name(language) or language
    return name[:1].upper() + name[1:]


def _(message: str) -> str:
    """Marker and translator in one, for Python code that builds text (picked up by extraction)."""
    return gettext(message)


def N_(message: str) -> str:  # noqa: N802 (the gettext convention for "mark, translate later")
    """Mark a string for extraction where it is defined; it is translated where it is shown."""
    return message
