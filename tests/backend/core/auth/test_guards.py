"""Each area's guard lets its own people in and keeps every other role out."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest
from litestar import Litestar, get
from litestar.datastructures import State

from backend.core.auth import guards, sessions
from backend.core.auth.middleware import SessionMiddleware
from backend.core.errors import make_exception_handler
from backend.core.request_transaction import TransactionMiddleware
from backend.core.settings import Settings
from tests.conftest import in_process_client, source_of
from tests.factories import TEST_SECRET, create_agent, create_organisation, create_person, create_staff

AREAS: dict[str, Callable[..., Awaitable[None]]] = {
    "citizen": guards.requires_sign_in,
    "agent": guards.requires_agent,
    "manager": guards.requires_access_manager,
    "desk": guards.requires_desk,
    "review": guards.requires_reviewer,
    "institution": guards.requires_institution_credentials,
}

# Who may enter each area; everyone else must be kept out.
ALLOWED = {
    "citizen": {"citizen", "agent", "manager", "desk", "reviewer"},
    "agent": {"agent", "manager"},
    "manager": {"manager"},
    "desk": {"desk"},
    "review": {"reviewer"},
    "institution": set(),
}
ROLES = ["anonymous", "citizen", "agent", "manager", "desk", "reviewer"]


def _route(area: str) -> Any:
    @get(f"/{area}", guards=[AREAS[area]], name=area, sync_to_thread=False)
    def handler() -> dict[str, str]:
        return {"area": area}

    return handler


@pytest.fixture
async def guarded(settings: Settings, conn: asyncpg.Connection) -> AsyncIterator[httpx.AsyncClient]:
    source = source_of(conn)

    app = Litestar(
        route_handlers=[_route(area) for area in AREAS],
        # As in the app: TransactionMiddleware gives back the connection the session read borrows.
        middleware=[TransactionMiddleware(), SessionMiddleware()],
        exception_handlers={Exception: make_exception_handler(None)},
        state=State({"settings": settings, "connection_source": source}),
        logging_config=None,
    )
    async with in_process_client(app) as client:
        yield client


async def _person_for(role: str, conn: asyncpg.Connection) -> UUID | None:
    if role == "anonymous":
        return None
    if role == "citizen":
        return (await create_person(conn)).person_id
    if role in {"agent", "manager"}:
        organisation = await create_organisation(conn)
        person = await create_agent(conn, organisation)
        if role == "manager":
            from backend.core.identity import service

            await service.add_member(
                conn, org_id=organisation.org_id, person_id=person.person_id, role="access_manager", secret=TEST_SECRET
            )
        return person.person_id
    return (await create_staff(conn, "support" if role == "desk" else "reviewer")).person_id


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("area", list(AREAS))
async def test_guard_matrix(
    guarded: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings, area: str, role: str
) -> None:
    person_id = await _person_for(role, conn)
    if person_id is not None:
        session_id = await sessions.insert_session(conn, person_id=person_id, method="demo")
        token = sessions.issue_token(settings.secret_key, session_id=session_id, person_id=person_id)
        guarded.cookies.set(sessions.cookie_name(False), token)
    response = await guarded.get(f"/{area}", headers={"accept": "application/json"})
    if role in ALLOWED[area]:
        assert response.status_code == 200, response.text
    else:
        expected = 401 if role == "anonymous" or area == "institution" else 403
        assert response.status_code == expected, f"{role} in {area}: {response.status_code}"
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_the_institution_area_needs_a_bearer_assertion(guarded: httpx.AsyncClient) -> None:
    assert (await guarded.get("/institution", headers={"authorization": "Bearer"})).status_code == 401
    assert (await guarded.get("/institution", headers={"authorization": "Basic abc"})).status_code == 401
    # Presence is all the coarse guard checks; the assertion itself is verified in the handler's transaction.
    assert (await guarded.get("/institution", headers={"authorization": "Bearer x.y.z"})).status_code == 200
