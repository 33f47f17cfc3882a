"""Institution API: check your credentials and list your registered purposes."""

from __future__ import annotations

import asyncpg
import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency, Provide

from backend.core.auth.guards import requires_institution_credentials
from backend.core.auth.institution import Institution, provide_institution
from backend.core.errors import problem_responses
from backend.core.identity.purposes import Purpose, select_purposes


class PurposeOut(msgspec.Struct, frozen=True, kw_only=True):
    """A purpose as the institution sees it."""

    code: str
    categories: list[str]
    legal_basis: dict[str, str]
    authorisation_ref: str


class WhoAmI(msgspec.Struct, frozen=True, kw_only=True):
    """What Vitrine understood from the assertion."""

    client_id: str
    organisation: str | None
    purpose: PurposeOut | None


def _purpose_out(purpose: Purpose) -> PurposeOut:
    return PurposeOut(
        code=purpose.code,
        categories=list(purpose.categories),
        legal_basis={
            "nl": purpose.legal_basis_nl,
            "fr": purpose.legal_basis_fr,
            "de": purpose.legal_basis_de,
            "en": purpose.legal_basis_en,
        },
        authorisation_ref=purpose.authorisation_ref,
    )


class InstitutionController(Controller):
    """Endpoints every institution may call with a valid assertion."""

    path = "/api/v1/institution"
    tags = ["institutions"]
    guards = [requires_institution_credentials]
    dependencies = {"institution": Provide(provide_institution)}

    @get("/whoami", responses=problem_responses(401, 403))
    async def whoami(self, institution: NamedDependency[Institution]) -> WhoAmI:
        """Verify an assertion (it is spent) and echo the client, organisation and purpose it stands for."""
        return WhoAmI(
            client_id=institution.caller.client_id,
            organisation=institution.caller.org_code,
            purpose=None if institution.purpose is None else _purpose_out(institution.purpose),
        )

    @get("/purposes", responses=problem_responses(401, 403))
    async def purposes(
        self, institution: NamedDependency[Institution], conn: NamedDependency[asyncpg.Connection]
    ) -> list[PurposeOut]:
        """The purposes registered for the calling institution, with categories and legal basis."""
        return [_purpose_out(purpose) for purpose in await select_purposes(conn, institution.caller.org_id)]
