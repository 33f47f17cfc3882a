"""Test institutions: an organisation with a code, a registered API client and its key."""

from __future__ import annotations

import asyncpg
from cryptography.hazmat.primitives.asymmetric import ec

from backend.core.auth.assertion_queries import upsert_api_client
from backend.core.auth.assertions import InstitutionCaller
from backend.core.auth.institution_keys import generate_es256_key, make_assertion, public_jwk
from backend.core.identity.schemas import Organisation
from tests.factories import create_organisation

LEGAL = {"legal_basis_nl": "Wet", "legal_basis_fr": "Loi", "legal_basis_de": "Gesetz", "legal_basis_en": "Law"}


class Institution:
    """A test institution: its organisation, API client and key."""

    def __init__(self, organisation: Organisation, client_id: str, key: ec.EllipticCurvePrivateKey) -> None:
        self.organisation = organisation
        self.client_id = client_id
        self.key = key

    @property
    def caller(self) -> InstitutionCaller:
        """The caller as the ingest service sees it after verification."""
        return InstitutionCaller(
            client_id=self.client_id, org_id=self.organisation.org_id, org_code=self.organisation.code, jti="test"
        )

    def headers(self, **extra: str) -> dict[str, str]:
        """A fresh, single-use assertion."""
        token = make_assertion(self.key, client_id=self.client_id, kid="k1")
        return {"authorization": f"Bearer {token}", **extra}


async def make_institution(conn: asyncpg.Connection, code: str) -> Institution:
    """An institution with this code and a registered API client."""
    organisation = await create_organisation(conn, kind="institution", code=code)
    key = generate_es256_key()
    client_id = f"{code.lower().replace('_', '-')}-test"
    await upsert_api_client(conn, client_id, organisation.org_id, {"keys": [public_jwk(key, "k1")]})
    return Institution(organisation, client_id, key)
