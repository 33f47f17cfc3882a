"""JSON API for mandates: the citizen gives and ends, the helper answers with a code, organisations name agents.

Internal ids only in paths; national numbers and codes travel in bodies. Code entry is rate-limited per
address and per account, counted in transactions of their own so a refused attempt still counts.
"""

from __future__ import annotations

from typing import Any, Final
from uuid import UUID

import asyncpg
import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from backend.core.auth import rate_limit
from backend.core.auth.actors import SignedIn
from backend.core.auth.guards import requires_sign_in, signed_in_user
from backend.core.errors import problem_responses
from backend.core.i18n import current_language
from consent import agents, ending, invitations, service
from consent.check_routes import MandateCheckController
from consent.schemas import (
    AgentAssignment,
    CodeEntry,
    DeclineEntry,
    EndRequest,
    InvitationCreated,
    Language,
    LegalText,
    MandateInvite,
    MandateOut,
    ThemeOut,
)

# Inviting looks people up by national number and surname: bounded so nobody can probe surnames at length.
INVITATIONS_PER_ACCOUNT: Final = rate_limit.RateLimit("mandate-invite:account", limit=30, window_seconds=3600)


class AssignmentResult(msgspec.Struct, frozen=True, kw_only=True):
    """Whether the call changed anything (False: the agent already was, or was not, named)."""

    changed: bool


def _client_address(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


async def _count(request: Request[Any, Any, Any], rule: rate_limit.RateLimit, subject: str) -> None:
    state = request.app.state
    await rate_limit.enforce(state.connection_source, state.settings.secret_key, rule, subject)


async def count_code_entry(request: Request[Any, Any, Any], user: SignedIn) -> None:
    """One code attempt, per address and per account (429 past either limit)."""
    await _count(request, rate_limit.CODE_ENTRY_PER_ADDRESS, _client_address(request))
    await _count(request, rate_limit.CODE_ENTRY_PER_ACCOUNT, str(user.person.person_id))


class MandateController(Controller):
    """Mandates of the signed-in person: given as citizen, held as helper."""

    path = "/api/v1/mandates"
    tags = ["mandates"]
    guards = [requires_sign_in]

    @get("/themes", responses=problem_responses(401, 403))
    async def themes(self, conn: NamedDependency[asyncpg.Connection]) -> list[ThemeOut]:
        """The themes a mandate can cover, with what each allows to read (categories) and do (actions)."""
        return await service.published_themes(conn, current_language())

    @get("/legal-text", responses=problem_responses(400, 401, 403, 422))
    async def legal_text(
        self, conn: NamedDependency[asyncpg.Connection], language: FromQuery[Language | None] = None
    ) -> LegalText:
        """The consent text to show before inviting; send its version, language and sha256 back when inviting."""
        return await service.current_legal_text(conn, language or current_language())

    @get("", responses=problem_responses(401, 403))
    async def given(
        self, request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]
    ) -> list[MandateOut]:
        """The mandates you gave, newest first, with their state and themes."""
        return await service.mandates_given(conn, signed_in_user(request))

    @get("/received", responses=problem_responses(401, 403))
    async def received(
        self, request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]
    ) -> list[MandateOut]:
        """The mandates you hold as a helper, newest first."""
        return await service.mandates_received(conn, signed_in_user(request))

    @post("", status_code=HTTP_201_CREATED, responses=problem_responses(400, 401, 403, 404, 409, 413, 422, 429))
    async def invite(
        self, request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], data: JSONBody[MandateInvite]
    ) -> InvitationCreated:
        """Invite a person (national number and surname) or an organisation (KBO) to help you.

        Answers the pending mandate and its code, shown once as XXXX-XXXX-XXXX and valid 14 days. Bad input is a
        422 naming each field; a helper already holding one of the themes is a 409 (renewal is a new consent).
        """
        user = signed_in_user(request)
        await _count(request, INVITATIONS_PER_ACCOUNT, str(user.person.person_id))
        return await service.invite(conn, user, data)

    @post(
        "/{mandate_id:uuid}/end",
        status_code=HTTP_200_OK,
        responses=problem_responses(400, 401, 403, 404, 409, 413, 422),
    )
    async def end(
        self,
        request: Request[Any, Any, Any],
        conn: NamedDependency[asyncpg.Connection],
        mandate_id: FromPath[UUID],
        data: JSONBody[EndRequest],
    ) -> MandateOut:
        """End a mandate at once, as its citizen or its helper; no agreement of the other side is needed."""
        return await ending.end_mandate(conn, signed_in_user(request), mandate_id, reason=data.reason)

    @post(
        "/{mandate_id:uuid}/cancel", status_code=HTTP_200_OK, responses=problem_responses(400, 401, 403, 404, 409, 422)
    )
    async def cancel(
        self, request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], mandate_id: FromPath[UUID]
    ) -> MandateOut:
        """Cancel an invitation nobody has answered yet: its code stops working."""
        return await ending.cancel_invitation(conn, signed_in_user(request), mandate_id)

    @post(
        "/{mandate_id:uuid}/themes/{theme_code:str}/end",
        status_code=HTTP_200_OK,
        responses=problem_responses(400, 401, 403, 404, 409, 413, 422),
    )
    async def end_theme(
        self,
        request: Request[Any, Any, Any],
        conn: NamedDependency[asyncpg.Connection],
        mandate_id: FromPath[UUID],
        theme_code: FromPath[str],
        data: JSONBody[EndRequest],
    ) -> MandateOut:
        """End one theme of a mandate at once; ending the last theme ends the mandate."""
        return await ending.end_theme(conn, signed_in_user(request), mandate_id, theme_code, reason=data.reason)

    @post(
        "/invitations/preview",
        status_code=HTTP_200_OK,
        responses=problem_responses(400, 401, 403, 404, 409, 413, 422, 429),
    )
    async def preview(
        self, request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], data: JSONBody[CodeEntry]
    ) -> MandateOut:
        """What an invitation code offers you: who, which themes, for how long (separators and case ignored)."""
        user = signed_in_user(request)
        await count_code_entry(request, user)
        return await invitations.preview_invitation(conn, user, data.code)

    @post(
        "/invitations/accept",
        status_code=HTTP_200_OK,
        responses=problem_responses(400, 401, 403, 404, 409, 413, 422, 429),
    )
    async def accept(
        self, request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], data: JSONBody[CodeEntry]
    ) -> MandateOut:
        """Accept an invitation with its code; the mandate starts now. A code works once."""
        user = signed_in_user(request)
        await count_code_entry(request, user)
        return await invitations.accept_invitation(conn, user, data.code)

    @post(
        "/invitations/decline",
        status_code=HTTP_200_OK,
        responses=problem_responses(400, 401, 403, 404, 409, 413, 422, 429),
    )
    async def decline(
        self, request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], data: JSONBody[DeclineEntry]
    ) -> MandateOut:
        """Decline an invitation with its code (and, if you wish, say why)."""
        user = signed_in_user(request)
        await count_code_entry(request, user)
        return await invitations.decline_invitation(conn, user, data.code, reason=data.reason)

    @post(
        "/{mandate_id:uuid}/agents",
        status_code=HTTP_200_OK,
        responses=problem_responses(400, 401, 403, 404, 409, 413, 422),
    )
    async def assign(
        self,
        request: Request[Any, Any, Any],
        conn: NamedDependency[asyncpg.Connection],
        mandate_id: FromPath[UUID],
        data: JSONBody[AgentAssignment],
    ) -> AssignmentResult:
        """Name an agent of your organisation for this mandate (access managers of the mandatary only)."""
        changed = await agents.assign_agent(conn, signed_in_user(request), mandate_id, data.agent_id)
        return AssignmentResult(changed=changed)

    @delete(
        "/{mandate_id:uuid}/agents/{agent_id:uuid}",
        status_code=HTTP_200_OK,
        responses=problem_responses(400, 401, 403, 404, 409, 422),
    )
    async def unassign(
        self,
        request: Request[Any, Any, Any],
        conn: NamedDependency[asyncpg.Connection],
        mandate_id: FromPath[UUID],
        agent_id: FromPath[UUID],
    ) -> AssignmentResult:
        """Withdraw an agent from this mandate."""
        changed = await agents.unassign_agent(conn, signed_in_user(request), mandate_id, agent_id)
        return AssignmentResult(changed=changed)


class OrganisationMandateController(Controller):
    """An organisation's mandates and its agents for all clients, for its access managers."""

    path = "/api/v1/mandates/organisations/{org_id:uuid}"
    tags = ["mandates"]
    guards = [requires_sign_in]

    @get("", responses=problem_responses(400, 401, 403, 404, 422))
    async def mandates(
        self, request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], org_id: FromPath[UUID]
    ) -> list[MandateOut]:
        """The mandates your organisation holds, newest first."""
        return await service.mandates_of_organisation(conn, signed_in_user(request), org_id)

    @post("/agents", status_code=HTTP_200_OK, responses=problem_responses(400, 401, 403, 404, 409, 413, 422))
    async def assign_all(
        self,
        request: Request[Any, Any, Any],
        conn: NamedDependency[asyncpg.Connection],
        org_id: FromPath[UUID],
        data: JSONBody[AgentAssignment],
    ) -> AssignmentResult:
        """Name an agent for all the organisation's clients, now and later."""
        changed = await agents.assign_agent_to_all_clients(conn, signed_in_user(request), org_id, data.agent_id)
        return AssignmentResult(changed=changed)

    @delete(
        "/agents/{agent_id:uuid}", status_code=HTTP_200_OK, responses=problem_responses(400, 401, 403, 404, 409, 422)
    )
    async def unassign_all(
        self,
        request: Request[Any, Any, Any],
        conn: NamedDependency[asyncpg.Connection],
        org_id: FromPath[UUID],
        agent_id: FromPath[UUID],
    ) -> AssignmentResult:
        """Withdraw an agent's naming for all clients (mandate-by-mandate namings stay)."""
        changed = await agents.unassign_agent_from_all_clients(conn, signed_in_user(request), org_id, agent_id)
        return AssignmentResult(changed=changed)


ROUTES: Final[list[type[Controller]]] = [MandateController, OrganisationMandateController, MandateCheckController]
