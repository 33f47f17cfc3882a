"""Invitation codes: read over the phone or copied from paper, so short, unambiguous and forgiving on entry.

The alphabet has no vowels (no words by accident) and no look-alikes (no 0/O, 1/I/L, no U/V). A code is 12
symbols, about 57 bits: guessing one within its 14 days, behind the per-address and per-account limits, is hopeless.
Only its SHA-256 is stored; the code itself is shown once to the citizen who made it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from typing import Final

ALPHABET: Final = "BCDFGHJKMNPQRSTVWXZ23456789"
CODE_LENGTH: Final = 12
GROUP_SIZE: Final = 4
CODE_VALIDITY: Final = timedelta(days=14)

# Whatever people type between groups (spaces, dashes, dots, slashes...) is not part of the code.
_SEPARATORS: Final = re.compile(r"[\s\-_.·/]+")
_VALID: Final = re.compile(f"^[{ALPHABET}]{{{CODE_LENGTH}}}$")


def new_code() -> str:
    """A fresh code, ungrouped, drawn with the `secrets` generator."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def grouped(code: str) -> str:
    """A code as shown and printed: XXXX-XXXX-XXXX."""
    return "-".join(code[i : i + GROUP_SIZE] for i in range(0, len(code), GROUP_SIZE))


def normalise(entered: str) -> str | None:
    """The code someone typed, without separators and in capitals; None when it cannot be a code at all."""
    candidate = _SEPARATORS.sub("", entered).upper()
    return candidate if _VALID.match(candidate) else None


def code_hash(code: str) -> bytes:
    """The SHA-256 stored for a (normalised) code."""
    return hashlib.sha256(code.encode("ascii")).digest()
