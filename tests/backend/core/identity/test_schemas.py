"""What the identity schemas say by themselves: an organisation's name in each language, as a member sees it."""

from __future__ import annotations

from uuid import uuid4

import pytest

from backend.core.identity.schemas import Membership


def _membership(name_de: str) -> Membership:
    return Membership(
        org_id=uuid4(),
        org_name_nl="OCMW Luik",
        org_name_fr="CPAS de Liège",
        org_name_de=name_de,
        org_kind="cpas",
        role="agent",
        pseudonym="A-1",
    )


@pytest.mark.parametrize(
    ("language", "name_de", "expected"),
    [
        ("nl", "ÖSHZ Lüttich", "OCMW Luik"),
        ("fr", "ÖSHZ Lüttich", "CPAS de Liège"),
        ("de", "ÖSHZ Lüttich", "ÖSHZ Lüttich"),
        # No German name published: French, as for the organisation itself; no English names are published.
        ("de", "", "CPAS de Liège"),
        ("en", "ÖSHZ Lüttich", "CPAS de Liège"),
    ],
)
def test_a_membership_names_its_organisation_in_a_language(language: str, name_de: str, expected: str) -> None:
    assert _membership(name_de).name(language) == expected
