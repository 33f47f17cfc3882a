"""The e-mail channel: a message that says only that something is waiting in the inbox (eBox pattern).

No subject of the notice, no name, no figures: the e-mail carries the link to the notice and nothing a stranger
reading over a shoulder, or a mail provider, could learn from. Sent over SMTP with aiosmtplib. Failures are
sorted for the caller: a 4xx answer or a network problem is worth a retry; a 5xx answer is not.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Final
from urllib.parse import unquote, urlsplit

import aiosmtplib

from backend.core.i18n import Language
from notifications.channels.failures import DeliveryFailure, PermanentFailure, TemporaryFailure
from notifications.templates import current_email_template

SMTP_TIMEOUT_SECONDS: Final = 30.0
_ADDRESS = re.compile(r"[^\s<>@,;:\"']+@[^\s<>@,;:\"']+")


def redact(text: str, limit: int = 300) -> str:
    """A server's answer without any e-mail address in it (servers often echo the recipient), shortened."""
    return _ADDRESS.sub("<address>", " ".join(text.split()))[:limit]


def build_message(
    *, to: str, mail_from: str, language: Language, notification_url: str, preferences_url: str
) -> EmailMessage:
    """The "a message is waiting" e-mail in the person's language, with a plain text and a simple HTML part."""
    texts = current_email_template().texts[language]
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = to
    message["Subject"] = texts.subject
    message["Date"] = format_datetime(datetime.now(UTC))
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or None
    message["Message-ID"] = make_msgid(domain=domain)
    # RFC 3834: an automatic message; well-behaved servers send no out-of-office answers to it.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(
        f"{texts.greeting}\n\n{texts.intro}\n\n{texts.read_prompt}\n{notification_url}\n\n"
        f"{texts.footer}\n{texts.preferences_label}: {preferences_url}\n"
    )
    e = html.escape
    message.add_alternative(
        f'<!doctype html>\n<html lang="{language}"><head><meta charset="utf-8"><title>{e(texts.subject)}</title>'
        f'</head>\n<body style="font-family: sans-serif; line-height: 1.5; color: #1b1b1f;">\n'
        f"<p>{e(texts.greeting)}</p>\n<p>{e(texts.intro)}</p>\n"
        f'<p><a href="{e(notification_url)}" style="color: #0b4f6c; font-weight: bold;">{e(texts.link_label)}</a></p>\n'
        f'<p style="color: #4a4f57; font-size: 0.9em;">{e(texts.footer)}<br>'
        f'<a href="{e(preferences_url)}" style="color: #0b4f6c;">{e(texts.preferences_label)}</a></p>\n'
        f"</body></html>\n",
        subtype="html",
    )
    # After the parts: setting the content replaces every Content-* header.
    message["Content-Language"] = language
    return message


def _classify(code: int, text: str) -> DeliveryFailure:
    reason = redact(f"SMTP {code}: {text}")
    return PermanentFailure(reason) if 500 <= code < 600 else TemporaryFailure(reason)


async def send_message(message: EmailMessage, smtp_url: str, *, timeout_seconds: float = SMTP_TIMEOUT_SECONDS) -> None:
    """Hand the message to the SMTP server named by `smtp_url` (smtp:// or smtps://, optional user:password@).

    Raises TemporaryFailure or PermanentFailure; never lets an SMTP or network error through unsorted.
    """
    parts = urlsplit(smtp_url)
    implicit_tls = parts.scheme == "smtps"
    try:
        await aiosmtplib.send(
            message,
            hostname=parts.hostname or "localhost",
            port=parts.port or (465 if implicit_tls else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=implicit_tls,
            timeout=timeout_seconds,
        )
    except aiosmtplib.SMTPRecipientsRefused as refused:
        codes = [recipient.code for recipient in refused.recipients]
        first = refused.recipients[0] if refused.recipients else None
        failure = _classify(min(codes, default=450), first.message if first else "recipient refused")
        raise failure from None
    except aiosmtplib.SMTPResponseException as answer:
        raise _classify(answer.code, answer.message) from None
    except (aiosmtplib.SMTPException, OSError) as problem:
        # Connection refused or lost, timeouts, TLS not offered: the server may be back later.
        raise TemporaryFailure(redact(f"{type(problem).__name__}: {problem}")) from None


def recipient(address: str) -> str:
    """The address as a header value (validated by the email package: a malformed one raises ValueError)."""
    return str(Address(addr_spec=address))
