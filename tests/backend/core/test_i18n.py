"""Language choice: the person's setting, then the switcher's cookie, then Accept-Language, then Dutch."""

from __future__ import annotations

import pytest

from backend.core import i18n


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("fr-BE,fr;q=0.9,en;q=0.8", "fr"),
        ("nl-BE", "nl"),
        ("de-DE,de;q=0.9", "de"),
        ("en-US,en;q=0.9", "en"),
        ("es-ES,es;q=0.9,de;q=0.5", "de"),
        ("en;q=0.2,fr;q=0.9", "fr"),
        ("fr;q=0,en", "en"),
        ("*", None),
        ("", None),
        ("garbage;;q=x,nl", "nl"),
        ("ja", None),
    ],
)
def test_accept_language_is_negotiated_with_quality_values(header: str, expected: str | None) -> None:
    assert i18n.negotiate(header) == expected


def test_the_person_s_setting_wins_then_the_cookie_then_the_browser() -> None:
    assert i18n.choose_language(person_setting="de", cookie="fr", accept_language="en") == "de"
    assert i18n.choose_language(person_setting=None, cookie="fr", accept_language="en") == "fr"
    assert i18n.choose_language(person_setting=None, cookie="xx", accept_language="en") == "en"
    assert i18n.choose_language(person_setting=None, cookie=None, accept_language=None) == i18n.DEFAULT_LANGUAGE


def test_languages_are_named_in_their_own_language() -> None:
    assert [i18n.language_name(code) for code in i18n.LANGUAGES] == ["Nederlands", "Français", "Deutsch", "English"]
