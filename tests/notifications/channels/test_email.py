"""The e-mail's bytes, read back by the email package: headers right in every language, non-ASCII subjects and
names as RFC 2047 encoded words, 7-bit lines within the limits, and addresses that could add a header refused."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime

import pytest

from backend.core.i18n import LANGUAGES, Language
from notifications.channels.email import compile_email, compose, recipient, waiting_message
from notifications.templates import EmailTexts, current_email_template

LINK = "https://vitrine.test/inbox/00000000-0000-4000-8000-000000000001"
PREFERENCES = "https://vitrine.test/inbox/preferences?from=e-mail&x=1"

# Wordings with characters outside ASCII in the subject and every text, as a future version might have them.
ACCENTED: dict[Language, EmailTexts] = {
    "nl": EmailTexts(
        subject="Een nieuw bericht voor u – één klik in Vitrine",
        greeting="Goeiedag,",
        intro="Er wacht een bericht op u; café-uren {zijn} niet van toepassing.",
        read_prompt="Lees het:",
        link_label="Het bericht lezen",
        footer="Automatisch verstuurd.",
        preferences_label="Voorkeuren",
    ),
    "fr": EmailTexts(
        subject="Un nouveau message vous attend « à lire » dans Vitrine, sécurité sociale",
        greeting="Bonjour,",
        intro="Un nouveau message vous attend dans votre boîte. Ceci n'est pas un test : « = ».",
        read_prompt="Lisez-le après vous être connecté :",
        link_label="Lire le message",
        footer="Envoyé automatiquement ; les réponses ne sont pas lues.",
        preferences_label="Préférences",
    ),
    "de": EmailTexts(
        subject="Neue Nachricht für Sie – bitte in Vitrine öffnen (Größe egal)",
        greeting="Guten Tag,",
        intro="In Ihrem Postfach wartet eine Nachricht auf Sie. Grüße & <Hinweise>.",
        read_prompt="Lesen Sie sie nach der Anmeldung:",
        link_label="Nachricht lesen",
        footer="Automatisch versandt.",
        preferences_label="Einstellungen wählen",
    ),
    "en": EmailTexts(
        subject="You have a new message in Vitrine — naïve café edition",
        greeting="Hello,",
        intro="A new message is waiting for you.",
        read_prompt="Read it after signing in:",
        link_label="Read the message",
        footer="Sent automatically.",
        preferences_label="Preferences",
    ),
}
SENDER = "Sécurité sociale – Vitrine <no-reply@vitrine.example>"


def _parsed(content: bytes) -> EmailMessage:
    """The message as a mail client reads it once received (line ends stored as LF)."""
    return message_from_bytes(content.replace(b"\r\n", b"\n"), policy=policy.default)


def _parts(message: EmailMessage) -> tuple[str, str]:
    plain, page = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None
    assert page is not None
    return plain.get_content(), page.get_content()


def _check_transport_form(content: bytes) -> None:
    assert content.isascii(), "7-bit: no server needs 8BITMIME"
    lines = content.split(b"\r\n")
    assert b"\n" not in content.replace(b"\r\n", b""), "every line ends in CRLF"
    assert all(len(line) <= 78 for line in lines), [line for line in lines if len(line) > 78]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_wording_in_force_parses_back_with_every_header(language: Language) -> None:
    email = waiting_message(
        to="an.claes@example.be",
        mail_from="Vitrine <no-reply@vitrine.example>",
        language=language,
        notification_url=LINK,
        preferences_url=PREFERENCES,
    )
    assert (email.mail_from, email.to) == ("no-reply@vitrine.example", "an.claes@example.be")
    _check_transport_form(email.content)
    message = _parsed(email.content)
    texts = current_email_template().texts[language]
    assert message["From"] == "Vitrine <no-reply@vitrine.example>"
    assert message["To"] == "an.claes@example.be"
    assert message["Subject"] == texts.subject
    assert message["Content-Language"] == language
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["MIME-Version"] == "1.0"
    assert message.get_content_type() == "multipart/alternative"
    assert parsedate_to_datetime(str(message["Date"])).tzinfo is not None
    assert re.fullmatch(r"<[^<>@\s]+@vitrine\.example>", str(message["Message-ID"]))
    assert message.defects == []
    plain, page = _parts(message)
    assert texts.intro in plain
    assert f"{LINK}\n" in plain
    assert PREFERENCES in plain
    assert f'href="{LINK}"' in page
    assert 'href="https://vitrine.test/inbox/preferences?from=e-mail&amp;x=1"' in page
    assert f'<html lang="{language}">' in page


@pytest.mark.parametrize("language", LANGUAGES)
def test_non_ascii_subjects_and_sender_names_are_encoded_words_that_read_back(language: Language) -> None:
    texts = ACCENTED[language]
    email = compose(
        compile_email(SENDER, texts, language), to="jan@example.be", notification_url=LINK, preferences_url=PREFERENCES
    )
    _check_transport_form(email.content)
    head = email.content.split(b"\r\n\r\n", 1)[0]
    assert b"=?utf-8?" in head, "RFC 2047 encoded words"
    message = _parsed(email.content)
    assert message["Subject"] == texts.subject
    assert message["From"].addresses[0].display_name == "Sécurité sociale – Vitrine"
    assert message["From"].addresses[0].addr_spec == "no-reply@vitrine.example"
    assert email.mail_from == "no-reply@vitrine.example"
    for header in message.values():
        assert not header.defects, header
    plain, page = _parts(message)
    assert texts.intro in plain, "quoted-printable UTF-8 reads back, braces and '=' included"
    assert "Grüße &amp; &lt;Hinweise&gt;." in page if language == "de" else texts.link_label in page


def test_each_message_has_its_own_boundary_message_id_and_date() -> None:
    compiled = compile_email(SENDER, ACCENTED["fr"], "fr")
    first, second = (
        _parsed(compose(compiled, to="a@example.be", notification_url=LINK, preferences_url=PREFERENCES).content)
        for _ in range(2)
    )
    assert first["Message-ID"] != second["Message-ID"]
    assert first.get_boundary() != second.get_boundary()
    assert compile_email(SENDER, ACCENTED["fr"], "fr") is compiled, "compiled once, then reused"


@pytest.mark.parametrize(
    "address",
    [
        "an.claes@example.be\r\nBcc: everyone@example.be",
        "an.claes@example.be\nX-Injected: 1",
        "jürgen@example.de",
        "no-at-sign.example.be",
        "two@@example.be",
        "with space@example.be",
        "<an.claes@example.be>",
        "",
    ],
)
def test_an_address_that_is_not_a_plain_addr_spec_is_refused(address: str) -> None:
    with pytest.raises(ValueError, match="not a plain ASCII e-mail address"):
        recipient(address)
    with pytest.raises(ValueError, match="not a plain ASCII e-mail address"):
        waiting_message(to=address, mail_from=SENDER, language="nl", notification_url=LINK, preferences_url=PREFERENCES)
