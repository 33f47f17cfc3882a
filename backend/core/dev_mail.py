"""A development mail sink: `make run` without `SMTP_URL` catches Vitrine's e-mail in a local folder.

Without it the worker's e-mails to the demo people went to `smtp://127.0.0.1:1025`, where nothing listens on a
fresh machine: every delivery was retried and finally shown as failed. The sink is aiosmtpd (already what the
tests and benchmarks deliver to) with its Maildir handler: each accepted message is one file under `new/`, to
open in any mail reader or text editor. Never used in production (`vitrine dev` refuses to run there).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox

HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def dev_mail_sink(mail_dir: Path) -> Iterator[str]:
    """Serve SMTP on a free loopback port, storing each message in the Maildir `mail_dir`; yields the SMTP URL."""
    mail_dir.parent.mkdir(parents=True, exist_ok=True)
    controller = Controller(Mailbox(mail_dir), hostname=HOST, port=_free_port())
    controller.start()
    try:
        yield f"smtp://{HOST}:{controller.port}"
    finally:
        controller.stop()


__all__ = ["dev_mail_sink"]
