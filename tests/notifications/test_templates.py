"""Templates: every kind and variant renders in all four languages with every placeholder filled, values are
written out for the language, and the e-mail says only that a message is waiting."""

from __future__ import annotations

import re
from email.message import EmailMessage
from typing import Any, cast

import pytest

from backend.core.i18n import LANGUAGES, Language
from notifications.channels.email import build_message, redact
from notifications.rendering import SAMPLES, RenderError, render_notice, sample_notices
from notifications.schemas import KINDS
from notifications.templates import EMAIL_HISTORY, HISTORY, current_template

_UNFILLED = re.compile(r"[{}]")


def test_every_kind_has_a_template_with_all_languages_and_samples() -> None:
    assert set(HISTORY) == set(KINDS) == set(SAMPLES)
    for kind in KINDS:
        template = current_template(kind)
        assert set(template.variants) == set(SAMPLES[kind])
        for variant in template.variants.values():
            assert set(variant.texts) == set(LANGUAGES)
        for fragment in template.fragments.values():
            assert set(fragment) == set(LANGUAGES)
    for email in EMAIL_HISTORY:
        assert set(email.texts) == set(LANGUAGES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_sample_renders_completely(language: Language) -> None:
    rendered = sample_notices(language)
    assert len(rendered) == sum(len(variants) for variants in SAMPLES.values())
    for kind, variant, notice in rendered:
        assert notice.language == language
        assert notice.template_version == current_template(kind).version
        for text in (notice.subject, notice.body, notice.action_label or ""):
            assert text.strip(), (kind, variant)
            assert not _UNFILLED.search(text), (kind, variant, text)
        assert notice.action_url is not None
        assert notice.action_url.startswith("/")
        assert len(notice.subject) <= 300
    texts = {notice.body for _, _, notice in rendered}
    assert len(texts) == len(rendered), "each variant says something of its own"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("nl", ["€\xa013.770,00", "75%", "76%", "€\xa018.000,00", "10 september 2026", "14 november", "voorlopig"]),
        ("fr", ["13\u202f770,00\xa0€", "75\xa0%", "10 septembre 2026", "vers le 14 novembre", "provisoire"]),
        ("de", ["13.770,00\xa0€", "10. September 2026", "um den 14. November", "vorläufig"]),
        ("en", ["18.000,00", "10 September 2026", "around 14 November", "provisional"]),
    ],
)
def test_flexi_values_are_written_for_the_language(language: Language, expected: list[str]) -> None:
    notice = render_notice("flexi_ceiling", SAMPLES["flexi_ceiling"]["near"], language)
    for piece in expected:
        assert piece in notice.body + notice.subject, (piece, notice.body)
    assert not notice.critical
    assert notice.action_url == "/my-data/flexi_wages"


def test_passing_the_ceiling_is_critical_and_has_no_forecast() -> None:
    notice = render_notice("flexi_ceiling", SAMPLES["flexi_ceiling"]["passed"], "en")
    assert notice.critical
    assert "passed" in notice.subject
    assert "pace" not in notice.body
    assert "provisional" not in notice.body, "2025 is not provisional"


def test_the_answer_notice_links_to_its_case_and_dates_are_read_in_brussels() -> None:
    contest = render_notice("contest_answered", {"contest_id": "00000000-0000-4000-8000-0000000000aa"}, "nl")
    assert contest.action_url == "/access-log/contests/00000000-0000-4000-8000-0000000000aa"
    # 23:30 UTC on 31 December is already 1 January in Brussels.
    alert = render_notice("access_alert", {"seq": 3, "flag": "night", "occurred_at": "2026-12-31T23:30:00+00:00"}, "en")
    assert "1 January 2027" in alert.body
    assert "at night" in alert.body


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        ("unknown_kind", {}),
        ("flexi_ceiling", {"year": 2026}),
        ("mandate_expiring", {"mandate_id": "x", "ends_at": "2026-12-01T10:00:00+00:00", "side": "neighbour"}),
        ("access_alert", {"seq": 1, "flag": "sunspots", "occurred_at": "2026-12-01T10:00:00+00:00"}),
        ("contest_answered", {"contest_id": "not-a-uuid"}),
    ],
)
def test_a_payload_that_does_not_fit_is_refused(kind: str, payload: dict[str, Any]) -> None:
    with pytest.raises(RenderError):
        render_notice(kind, payload, "fr")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_email_says_only_that_a_message_is_waiting(language: Language) -> None:
    message = build_message(
        to="an.claes@example.be",
        mail_from="Vitrine <no-reply@vitrine.example>",
        language=language,
        notification_url="https://vitrine.test/inbox/00000000-0000-4000-8000-000000000001",
        preferences_url="https://vitrine.test/inbox/preferences",
    )
    assert message["From"] == "Vitrine <no-reply@vitrine.example>"
    assert message["Content-Language"] == language
    assert message["Auto-Submitted"] == "auto-generated"
    plain = cast("EmailMessage", message.get_body(("plain",))).get_content()
    html = cast("EmailMessage", message.get_body(("html",))).get_content()
    for part in (plain, html):
        assert "https://vitrine.test/inbox/00000000-0000-4000-8000-000000000001" in part
        assert "https://vitrine.test/inbox/preferences" in part
        # eBox: no name, no figures, nothing about the notice.
        for personal in ("Claes", "an.claes", "flexi", "€", "%"):
            assert personal not in part
    assert f'<html lang="{language}">' in html


def test_server_answers_are_stored_without_addresses() -> None:
    assert redact("SMTP 550: 5.1.1 <jean.dubois@example.be>: Recipient address rejected") == (
        "SMTP 550: 5.1.1 <<address>>: Recipient address rejected"
    )
    assert len(redact("x" * 1000)) == 300
