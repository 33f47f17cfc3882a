"""The access manager's "Clients and agents" `/organisation/clients`: the mandates the organisation holds, its
people, and who may use which mandate (named for one client, or for all clients).

The organisation is the one the person manages access for; with several, the one they work for now
(`acting_org`), else the one chosen in the address (`?org=<id>`), else a chooser. Changes are POST forms with the
CSRF token that redirect back; consent.agents checks, from the database, that the person still manages access.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlencode
from uuid import UUID

import asyncpg
import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from backend.core.auth.actors import SignedIn
from backend.core.auth.guards import requires_access_manager, signed_in_user
from backend.core.errors import FieldError, validation_problem
from backend.core.i18n import N_, _, current_language
from backend.core.identity.schemas import Membership
from consent import agents
from consent.clients import organisation_clients
from frontend.pages.mandate_display import grouped, mandate_view
from frontend.rendering import page

CLIENTS_PATH: Final = "/organisation/clients"
_DONE: Final = {
    "assigned": N_("The agent may now use this mandate."),
    "unassigned": N_("The agent may no longer use this mandate."),
    "assigned-all": N_("The agent may now use the mandates of all clients."),
    "unassigned-all": N_("The agent is no longer named for all clients."),
    "unchanged": N_("Nothing changed: it already was so."),
}


class AgentForm(msgspec.Struct, kw_only=True):
    """The person chosen in a select, and the organisation the page is about."""

    agent_id: str = ""
    org_id: str = ""


def managed(user: SignedIn) -> list[Membership]:
    """The organisations the person manages access for."""
    return [m for m in user.memberships if m.role == "access_manager"]


def organisation_name(membership: Membership) -> str:
    """The organisation's name in the page's language (French where no German name is published)."""
    language = current_language()
    if language == "nl":
        return membership.org_name_nl
    return (membership.org_name_de if language == "de" else None) or membership.org_name_fr


def _uuid(value: str | None) -> UUID | None:
    try:
        return UUID(value) if value else None
    except ValueError:
        return None


def chosen_organisation(user: SignedIn, requested: UUID | None) -> Membership | None:
    """The organisation this page is about: the only one, the one asked for, or the one worked for now."""
    memberships = managed(user)
    if len(memberships) == 1:
        return memberships[0]
    for wanted in (requested, user.acting_org):
        found = next((m for m in memberships if m.org_id == wanted), None)
        if found is not None:
            return found
    return None


def _back(org_id: UUID, done: str) -> Redirect:
    return Redirect(path=f"{CLIENTS_PATH}?{urlencode({'org': str(org_id), 'done': done})}", status_code=303)


@get(CLIENTS_PATH, name="organisation-clients", guards=[requires_access_manager], include_in_schema=False)
async def clients_page(request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]) -> Template:
    """The organisation's clients (mandates) and agents, with forms to name or withdraw agents."""
    user = signed_in_user(request)
    membership = chosen_organisation(user, _uuid(request.query_params.get("org")))
    if membership is None:
        choices = [{"org_id": m.org_id, "name": organisation_name(m)} for m in managed(user)]
        return page(request, "pages/organisation/choose.html", choices=choices)
    overview = await organisation_clients(conn, user, membership.org_id)
    views = {c.mandate.mandate_id: mandate_view(c.mandate, "organisation") for c in overview.clients}
    done = _DONE.get(request.query_params.get("done", ""))
    return page(
        request,
        "pages/organisation/clients.html",
        organisation=organisation_name(membership),
        org_id=membership.org_id,
        overview=overview,
        groups=grouped(list(views.values())),
        agents_of={c.mandate.mandate_id: c.agents for c in overview.clients},
        done=None if done is None else _(done),
    )


def _form_ids(user: SignedIn, data: AgentForm) -> tuple[UUID, UUID]:
    """The organisation (one the person manages) and the agent of a posted form; 422 naming the field otherwise."""
    org_id = _uuid(data.org_id)
    if org_id is None or all(m.org_id != org_id for m in managed(user)):
        raise validation_problem(
            [FieldError(field="org_id", message=_("You do not manage access for this organisation."))]
        )
    agent_id = _uuid(data.agent_id)
    if agent_id is None:
        raise validation_problem([FieldError(field="agent_id", message=_("Choose a person of your organisation."))])
    return org_id, agent_id


_POST: Final[dict[str, Any]] = {"guards": [requires_access_manager], "include_in_schema": False, "status_code": 303}


@post(f"{CLIENTS_PATH}/mandates/{{mandate_id:uuid}}/agents", name="organisation-assign", **_POST)
async def assign_page(
    request: Request[Any, Any, Any],
    conn: NamedDependency[asyncpg.Connection],
    mandate_id: FromPath[UUID],
    data: URLEncodedBody[AgentForm],
) -> Response[Any]:
    """Name an agent for this client's mandate."""
    user = signed_in_user(request)
    org_id, agent_id = _form_ids(user, data)
    changed = await agents.assign_agent(conn, user, mandate_id, agent_id)
    return _back(org_id, "assigned" if changed else "unchanged")


@post(f"{CLIENTS_PATH}/mandates/{{mandate_id:uuid}}/agents/remove", name="organisation-unassign", **_POST)
async def unassign_page(
    request: Request[Any, Any, Any],
    conn: NamedDependency[asyncpg.Connection],
    mandate_id: FromPath[UUID],
    data: URLEncodedBody[AgentForm],
) -> Response[Any]:
    """Withdraw an agent from this client's mandate."""
    user = signed_in_user(request)
    org_id, agent_id = _form_ids(user, data)
    changed = await agents.unassign_agent(conn, user, mandate_id, agent_id)
    return _back(org_id, "unassigned" if changed else "unchanged")


@post(f"{CLIENTS_PATH}/agents", name="organisation-assign-all", **_POST)
async def assign_all_page(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], data: URLEncodedBody[AgentForm]
) -> Response[Any]:
    """Name an agent for all the organisation's clients, now and later."""
    user = signed_in_user(request)
    org_id, agent_id = _form_ids(user, data)
    changed = await agents.assign_agent_to_all_clients(conn, user, org_id, agent_id)
    return _back(org_id, "assigned-all" if changed else "unchanged")


@post(f"{CLIENTS_PATH}/agents/remove", name="organisation-unassign-all", **_POST)
async def unassign_all_page(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], data: URLEncodedBody[AgentForm]
) -> Response[Any]:
    """Withdraw an agent's naming for all clients (namings for single clients stay)."""
    user = signed_in_user(request)
    org_id, agent_id = _form_ids(user, data)
    changed = await agents.unassign_agent_from_all_clients(conn, user, org_id, agent_id)
    return _back(org_id, "unassigned-all" if changed else "unchanged")


# Registered by the composition root (backend/app.py).
ROUTES: Final[list[Any]] = [clients_page, assign_page, unassign_page, assign_all_page, unassign_all_page]
