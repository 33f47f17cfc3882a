"""Institution API: the one mandate check every service of every level can call."""

from __future__ import annotations

import asyncpg
from litestar import Controller, post
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK

from backend.core.auth.guards import requires_institution_credentials
from backend.core.auth.institution import Institution, provide_institution
from backend.core.errors import problem_responses
from consent.check import check_mandate
from consent.schemas import MandateCheck, MandateCheckResult


class MandateCheckController(Controller):
    """Mandate checks for institutions (signed assertion required)."""

    path = "/api/v1/mandates/check"
    tags = ["mandates", "institutions"]
    guards = [requires_institution_credentials]
    dependencies = {"institution": Provide(provide_institution)}

    @post("", status_code=HTTP_200_OK, responses=problem_responses(400, 401, 403, 413, 422))
    async def check(
        self,
        institution: NamedDependency[Institution],
        conn: NamedDependency[asyncpg.Connection],
        data: JSONBody[MandateCheck],
    ) -> MandateCheckResult:
        """May this person (`mandatary_insz`) or organisation (`mandatary_kbo`) use `theme` with `access` for the
        citizen (`citizen_insz`) now?

        `ALLOWED` names the mandate, its active themes and when it ends (`valid_until`); `DISALLOWED` says nothing
        more. ACT includes READ. Every check is written in the citizen's access log. An unknown citizen, theme or
        malformed number is a 422 naming the field; an unknown mandatary is simply `DISALLOWED`.
        """
        return await check_mandate(conn, institution, data)


__all__ = ["MandateCheckController"]
