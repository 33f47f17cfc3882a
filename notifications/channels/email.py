"""The e-mail channel: a message that says only that something is waiting in the inbox (eBox pattern).

No subject of the notice, no name, no figures: the e-mail carries the link to the notice and nothing a stranger
reading over a shoulder, or a mail provider, could learn from.

The message is assembled as bytes from a form compiled once per (wording, language, sender): the fixed headers
are written by the email package itself (RFC 2047 encoded words for non-ASCII subjects and names, folding), so
only what changes per message is done per message: the recipient (validated), the date, the Message-ID, the
MIME boundary and the two bodies in quoted-printable. Building an `EmailMessage` with the default policy instead
cost about 4 ms of CPU a message (every header it sets is parsed again); this costs well under a millisecond.
Sending is in notifications.channels.smtp_pool.
"""

from __future__ import annotations

import binascii
import html
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from functools import lru_cache
from typing import Final

from backend.core.i18n import Language
from notifications.templates import EmailTexts, current_email_template

_ADDRESS = re.compile(r"[^\s<>@,;:\"']+@[^\s<>@,;:\"']+")
_UNSAFE_IN_ADDRESS = re.compile(r"[\s\x00-\x1f\x7f<>]")
CRLF: Final = b"\r\n"
INVALID_ADDRESS: Final = "not a plain ASCII e-mail address (addr-spec)"


def redact(text: str, limit: int = 300) -> str:
    """A server's answer without any e-mail address in it (servers often echo the recipient), shortened."""
    return _ADDRESS.sub("<address>", " ".join(text.split()))[:limit]


def recipient(address: str) -> str:
    """The address as a header value; ValueError for one that is malformed, not ASCII, or could add a header."""
    if not address.isascii() or address.count("@") != 1 or _UNSAFE_IN_ADDRESS.search(address):
        raise ValueError(INVALID_ADDRESS)
    try:
        return str(Address(addr_spec=address))
    except (ValueError, HeaderParseError, IndexError):
        raise ValueError(INVALID_ADDRESS) from None


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """A message ready for SMTP: the envelope and the bytes (CRLF line ends, 7-bit)."""

    mail_from: str
    to: str
    content: bytes


@dataclass(frozen=True, slots=True)
class CompiledEmail:
    """The parts of one wording in one language for one sender that do not change from message to message."""

    envelope_from: str
    domain: str | None
    headers: bytes  # From, Subject, Auto-Submitted, MIME-Version, Content-Language: encoded and folded, CRLF
    language: Language
    plain: str  # with {notification_url} and {preferences_url} to fill
    html: str  # the same, the values HTML-escaped when filled


def _header_block(mail_from: str, texts: EmailTexts, language: Language) -> bytes:
    """The fixed headers, written by the email package's SMTP policy (encoded words, folding, CRLF)."""
    fixed = EmailMessage(policy=policy.SMTP)
    fixed["From"] = mail_from
    fixed["Subject"] = texts.subject
    # RFC 3834: an automatic message; well-behaved servers send no out-of-office answers to it.
    fixed["Auto-Submitted"] = "auto-generated"
    fixed["MIME-Version"] = "1.0"
    fixed["Content-Language"] = language
    return b"".join(policy.SMTP.fold_binary(name, value) for name, value in fixed.items())


@lru_cache(maxsize=64)
def compile_email(mail_from: str, texts: EmailTexts, language: Language) -> CompiledEmail:
    """The fixed parts of the "a message is waiting" e-mail, computed once and kept (ValueError: bad sender)."""
    envelope_from = parseaddr(mail_from)[1]
    if not envelope_from or "@" not in envelope_from:
        raise ValueError("MAIL_FROM has no address")
    e = html.escape
    plain = (
        f"{texts.greeting}\n\n{texts.intro}\n\n{texts.read_prompt}\n{{notification_url}}\n\n"
        f"{texts.footer}\n{texts.preferences_label}: {{preferences_url}}\n"
    )
    page = (
        f'<!doctype html>\n<html lang="{language}"><head><meta charset="utf-8"><title>{e(texts.subject)}</title>'
        f'</head>\n<body style="font-family: sans-serif; line-height: 1.5; color: #1b1b1f;">\n'
        f"<p>{e(texts.greeting)}</p>\n<p>{e(texts.intro)}</p>\n"
        f'<p><a href="{{notification_url}}" style="color: #0b4f6c; font-weight: bold;">{e(texts.link_label)}</a></p>\n'
        f'<p style="color: #4a4f57; font-size: 0.9em;">{e(texts.footer)}<br>'
        f'<a href="{{preferences_url}}" style="color: #0b4f6c;">{e(texts.preferences_label)}</a></p>\n'
        f"</body></html>\n"
    )
    # Braces in the wording would be read as fields by str.format: keep them literal.
    return CompiledEmail(
        envelope_from=envelope_from,
        domain=envelope_from.rpartition("@")[2] or None,
        headers=_header_block(mail_from, texts, language),
        language=language,
        plain=_literal_braces(plain),
        html=_literal_braces(page),
    )


def _literal_braces(text: str) -> str:
    """Double every brace but those of the two fields the message fills."""
    fields = ("{notification_url}", "{preferences_url}")
    escaped = text.replace("{", "{{").replace("}", "}}")
    for field in fields:
        escaped = escaped.replace("{" + field + "}", field)
    return escaped


def _quoted_printable(text: str) -> bytes:
    """UTF-8 text as quoted-printable (RFC 2045: 76-character lines), with CRLF line ends."""
    return binascii.b2a_qp(text.encode("utf-8"), istext=True).replace(b"\n", CRLF)


def _text_part(subtype: str, body: str) -> bytes:
    return (
        b"Content-Type: text/" + subtype.encode() + b'; charset="utf-8"\r\n'
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + _quoted_printable(body)
    )


def compose(compiled: CompiledEmail, *, to: str, notification_url: str, preferences_url: str) -> OutgoingEmail:
    """One message from its compiled form: ValueError for an address that is not valid."""
    to_header = recipient(to)
    # "=_" cannot occur in quoted-printable text ("=" is followed by hex digits or a line end), so this boundary
    # cannot appear in either part.
    boundary = f"=_vitrine_{secrets.token_hex(12)}"
    e = html.escape
    plain = compiled.plain.format(notification_url=notification_url, preferences_url=preferences_url)
    page = compiled.html.format(notification_url=e(notification_url), preferences_url=e(preferences_url))
    delimiter = b"--" + boundary.encode()
    content = b"".join(
        (
            compiled.headers,
            policy.SMTP.fold_binary("To", to_header) if len(to_header) > 70 else f"To: {to_header}\r\n".encode(),
            f"Date: {format_datetime(datetime.now(UTC))}\r\n".encode(),
            f"Message-ID: {make_msgid(domain=compiled.domain)}\r\n".encode(),
            f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"\r\n\r\n'.encode(),
            delimiter + CRLF,
            _text_part("plain", plain),
            CRLF + delimiter + CRLF,
            _text_part("html", page),
            CRLF + delimiter + b"--" + CRLF,
        )
    )
    return OutgoingEmail(mail_from=compiled.envelope_from, to=to, content=content)


def waiting_message(
    *, to: str, mail_from: str, language: Language, notification_url: str, preferences_url: str
) -> OutgoingEmail:
    """The "a message is waiting" e-mail in the person's language, in the wording in force."""
    compiled = compile_email(mail_from, current_email_template().texts[language], language)
    return compose(compiled, to=to, notification_url=notification_url, preferences_url=preferences_url)


def build_message(
    *, to: str, mail_from: str, language: Language, notification_url: str, preferences_url: str
) -> EmailMessage:
    """The same e-mail read back as an `EmailMessage` (staff preview, tests): exactly the bytes that are sent."""
    outgoing = waiting_message(
        to=to,
        mail_from=mail_from,
        language=language,
        notification_url=notification_url,
        preferences_url=preferences_url,
    )
    # Line ends as a mail client stores them once received.
    return message_from_bytes(outgoing.content.replace(CRLF, b"\n"), policy=policy.default)
