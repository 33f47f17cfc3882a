"""Invitation codes: an unambiguous alphabet, grouped for reading, forgiving on entry, stored only as a hash."""

from __future__ import annotations

import hashlib

import pytest

from consent import codes


def test_the_alphabet_has_no_vowels_and_no_look_alikes() -> None:
    assert len(set(codes.ALPHABET)) == len(codes.ALPHABET)
    for excluded in "AEIOUY01LO":
        assert excluded not in codes.ALPHABET
    assert codes.ALPHABET == "BCDFGHJKMNPQRSTVWXZ23456789"


def test_new_codes_use_only_the_alphabet_and_differ() -> None:
    drawn = {codes.new_code() for _ in range(200)}
    assert len(drawn) == 200
    assert all(len(code) == codes.CODE_LENGTH and set(code) <= set(codes.ALPHABET) for code in drawn)


def test_codes_are_shown_in_three_groups_of_four() -> None:
    assert codes.grouped("BCDFGHJKMNPQ") == "BCDF-GHJK-MNPQ"


@pytest.mark.parametrize(
    ("entered", "expected"),
    [
        ("BCDF-GHJK-MNPQ", "BCDFGHJKMNPQ"),
        ("bcdf ghjk mnpq", "BCDFGHJKMNPQ"),
        ("  bcdf-ghjk.mnpq ", "BCDFGHJKMNPQ"),
        ("BcDf_GhJk/MnPq", "BCDFGHJKMNPQ"),
        ("BCDFGHJKMNPQ", "BCDFGHJKMNPQ"),
        ("BCDF-GHJK-MNP", None),  # too short
        ("BCDF-GHJK-MNPQR", None),  # too long
        ("BCDF-GHJK-MNP0", None),  # a zero is never part of a code
        ("BCDF-GHJK-MNPL", None),  # nor an L
        ("BCDF-GHJK-MNPÉ", None),
        ("", None),
    ],
)
def test_separators_and_case_are_ignored_on_entry(entered: str, expected: str | None) -> None:
    assert codes.normalise(entered) == expected


def test_only_a_sha256_of_the_normalised_code_is_kept() -> None:
    assert codes.code_hash("BCDFGHJKMNPQ") == hashlib.sha256(b"BCDFGHJKMNPQ").digest()
    assert len(codes.code_hash("BCDFGHJKMNPQ")) == 32
