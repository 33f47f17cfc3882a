"""An organisation's agent's "My clients" `/organisation/my-clients`: the clients they may act for now.

Only while the person works as agent of an organisation (the session's `acting_org`, chosen on `/my`): the
organisation's active mandates it names them for, alone or for all its clients, with what each allows and until
when, and "Act for this person". That button posts to `/helping/act`, where consent.acting checks the naming again
and logs a refusal in the client's access log. Clients the agent is not named for are not shown at all.
"""

from __future__ import annotations

from typing import Any, Final

import asyncpg
from litestar import Request, get
from litestar.di import NamedDependency
from litestar.response import Template

from backend.core.auth.guards import requires_agent, signed_in_user
from consent.clients import clients_of_agent
from frontend.pages.mandate_display import mandate_view
from frontend.pages.organisation_clients import organisation_name
from frontend.rendering import page

MY_CLIENTS_PATH: Final = "/organisation/my-clients"


@get(MY_CLIENTS_PATH, name="organisation-my-clients", guards=[requires_agent], include_in_schema=False)
async def my_clients_page(request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]) -> Template:
    """The clients the agent may act for, as agent of the organisation they work for now."""
    user = signed_in_user(request)
    membership = None if user.acting_org is None else user.membership(user.acting_org)
    if membership is None:
        # Working for oneself: the organisation's clients are only reachable as its agent.
        return page(request, "pages/organisation/my-clients-choose.html")
    clients = await clients_of_agent(conn, user)
    return page(
        request,
        "pages/organisation/my-clients.html",
        organisation=organisation_name(membership),
        views=[mandate_view(mandate, "organisation") for mandate in clients],
        acting_for=user.acting_for,
    )


# Registered by the composition root (backend/app.py).
ROUTES: Final[list[Any]] = [my_clients_page]
