"""The words of a Web Push message, per version and language, as data (like the e-mail in templates.py).

A push message is seen on a lock screen, so it follows the e-mail's rule (eBox pattern): it says only that a
message is waiting, never what it is about, and opens the notice in the inbox when tapped.
"""

from __future__ import annotations

from typing import Final

import msgspec

from backend.core.i18n import Language


class PushTexts(msgspec.Struct, frozen=True, kw_only=True):
    """A push message in one language: a title and one short line."""

    title: str
    body: str


class PushTemplate(msgspec.Struct, frozen=True, kw_only=True):
    """A versioned push wording."""

    version: int
    texts: dict[Language, PushTexts]


PUSH_V1: Final = PushTemplate(
    version=1,
    texts={
        "nl": PushTexts(title="Nieuw bericht in Vitrine", body="Open het om het te lezen nadat u zich hebt aangemeld."),
        "fr": PushTexts(title="Nouveau message dans Vitrine", body="Ouvrez-le pour le lire après vous être connecté."),
        "de": PushTexts(title="Neue Nachricht in Vitrine", body="Öffnen Sie sie, um sie nach der Anmeldung zu lesen."),
        "en": PushTexts(title="New message in Vitrine", body="Open it to read it after signing in."),
    },
)

# Every version ever used, oldest first; the last one is in force.
PUSH_HISTORY: Final[tuple[PushTemplate, ...]] = (PUSH_V1,)


def current_push_template() -> PushTemplate:
    """The push wording in force."""
    return PUSH_HISTORY[-1]
