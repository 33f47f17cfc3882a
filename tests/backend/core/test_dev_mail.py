"""The development mail sink that `make run` starts when no SMTP server is named."""

from __future__ import annotations

import mailbox
import smtplib
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

from backend.core.dev_mail import dev_mail_sink


def test_each_message_sent_to_the_sink_is_kept_in_its_maildir(tmp_path: Path) -> None:
    mail_dir = tmp_path / "dev-mail"
    with dev_mail_sink(mail_dir) as url:
        address = urlsplit(url)
        assert address.scheme == "smtp"
        assert address.hostname == "127.0.0.1"
        message = EmailMessage()
        message["From"] = "Vitrine <no-reply@vitrine.example>"
        message["To"] = "sofie.peeters@example.be"
        message["Subject"] = "Uw flexi-inkomen nadert het plafond"
        message.set_content("Bekijk het in Vitrine.")
        assert address.port is not None
        with smtplib.SMTP(address.hostname, address.port, timeout=5) as client:
            client.send_message(message)
    kept = list(mailbox.Maildir(mail_dir, create=False))
    assert len(kept) == 1
    assert kept[0]["Subject"] == "Uw flexi-inkomen nadert het plafond"
    assert kept[0]["To"] == "sofie.peeters@example.be"
    assert len(list((mail_dir / "new").iterdir())) == 1
