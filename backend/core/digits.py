"""Numbers typed by people or sent by other systems, read only when they are plain ASCII digits.

`str.isdigit()` is also true for characters such as "²" that `int()` refuses (and `str.isdecimal()` for digits of
other scripts, such as "٣", that `int()` accepts): an address or a header holding one must read as "not a number",
never end in an error.
"""

from __future__ import annotations


def is_ascii_digits(text: str) -> bool:
    """True when `text` is non-empty and made of the ASCII digits 0-9 only."""
    return text.isascii() and text.isdigit()


def positive_int(text: str | None, *, below: int) -> int | None:
    """The number `text` writes in ASCII digits when it is at least 1 and below `below`, else None."""
    if text is None or not is_ascii_digits(text):
        return None
    number = int(text)
    return number if 0 < number < below else None


__all__ = ["is_ascii_digits", "positive_int"]
