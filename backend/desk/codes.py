"""Six-digit codes read out at a desk or typed on a phone: short, so kept only as a keyed hash and spent once.

A bare SHA-256 of six digits is reversed by trying a million values; an HMAC under the service's secret, bound
to the person and to what the code is for, cannot be tried without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Final, Literal
from uuid import UUID

CodePurpose = Literal["presence", "mandate"]
DIGITS: Final = 6
_SEPARATORS: Final = re.compile(r"[\s\-.]+")
_VALID: Final = re.compile(rf"^[0-9]{{{DIGITS}}}$")


def new_code() -> str:
    """A fresh code of six digits from the `secrets` generator (leading zeros kept)."""
    return f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"


def normalise(entered: str) -> str | None:
    """The digits someone typed or read out, without spaces or dashes; None when it cannot be a code."""
    candidate = _SEPARATORS.sub("", entered)
    return candidate if _VALID.match(candidate) else None


def code_hmac(secret: str, purpose: CodePurpose, citizen_id: UUID, code: str) -> bytes:
    """The keyed hash stored for a code of a person."""
    return hmac.new(secret.encode(), f"desk:{purpose}:{citizen_id}:{code}".encode(), hashlib.sha256).digest()


def spaced(code: str) -> str:
    """A code as shown, easier to read out: "123 456"."""
    return f"{code[:3]} {code[3:]}"
