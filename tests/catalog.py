"""Expected page texts read through the gettext catalogs, so tests assert what a person really sees in their
language rather than the English msgid."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

from backend.core.i18n import DOMAIN

LOCALE = Path(__file__).resolve().parent.parent / "frontend" / "locale"


@cache
def _catalog(language: str) -> dict[str, str]:
    path = LOCALE / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    return {str(message.id): str(message.string) for message in catalog if message.id and message.string}


def t(language: str, message: str) -> str:
    """What a page shows in a language for an English msgid (as the catalog says); a missing translation fails
    the test rather than quietly expecting English."""
    return message if language == "en" else _catalog(language)[message]
