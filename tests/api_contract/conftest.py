"""Fixtures of the API contract tests: a Vitrine app on a committed database of its own, with a citizen, their
records, a helper under mandate, an institution with a signing key, and the app's OpenAPI description loaded by
schemathesis.

The app runs in process, but schemathesis calls it from its own event-loop thread, so it cannot borrow the
test's rolled-back connection: it gets a real pool on a scratch database (dropped at the end) instead.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import asyncpg
import pytest
import schemathesis
from cryptography.hazmat.primitives.asymmetric import ec
from litestar import Litestar
from litestar.middleware.csrf import generate_csrf_token
from schemathesis.python import asgi
from schemathesis.specs.openapi.schemas import OpenApiSchema

from backend.access_log.schemas import Accessor
from backend.access_log.service import record_access
from backend.app import create_app
from backend.core.auth import sessions
from backend.core.auth.institution_keys import make_assertion
from backend.core.db import connect
from backend.core.identity.purposes import Purpose, upsert_purpose
from backend.core.migrations import migrate
from backend.core.settings import Settings, load_settings
from notifications import outbox_queries
from notifications.outbox import enqueue_notification
from notifications.relay import materialise
from tests.backend.records.citizen_data import make_citizen_file
from tests.backend.records.institutions import LEGAL, make_institution
from tests.factories import create_access_manager, create_mandate, create_organisation, create_person

CONTRACT_PURPOSE = "contract_check"
CSRF_COOKIE = "vitrine_csrf"  # the app's CSRF cookie over plain http (backend/app.py)


@dataclass(frozen=True)
class ContractWorld:
    """What the seeded database holds that requests may name: ids for path parameters, and credentials."""

    session_cookie: tuple[str, str]
    # A CSRF cookie and the same token for the X-CSRFToken header, as a page of Vitrine gives the browser.
    csrf_cookie: tuple[str, str]
    institution_client_id: str
    institution_key: ec.EllipticCurvePrivateKey
    known_ids: dict[str, list[str]]

    def assertion(self) -> str:
        """A fresh single-use assertion of the seeded institution, for its contract purpose."""
        return make_assertion(
            self.institution_key, client_id=self.institution_client_id, kid="k1", purpose=CONTRACT_PURPOSE
        )


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


@pytest.fixture(scope="module")
async def contract_database_url(database_url: str) -> AsyncIterator[str]:
    """A migrated database for the contract run, where the app's requests really commit; dropped after."""
    name = f"vitrine_contract_{os.getpid()}"
    admin = await asyncpg.connect(_with_database(database_url, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = _with_database(database_url, name)
        owner = await connect(url, as_app=False)
        try:
            await migrate(owner)
        finally:
            await owner.close()
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _seed(conn: asyncpg.Connection, settings: Settings) -> ContractWorld:
    onss = await make_institution(conn, "ONSS")
    every_category = ("identity", "dimona", "dmfa", "flexi_wages", "limosa", "a1", "drs")
    await upsert_purpose(
        conn,
        Purpose(
            org_id=onss.organisation.org_id,
            code=CONTRACT_PURPOSE,
            categories=every_category,
            authorisation_ref="IVC/TEST/CONTRACT",
            **LEGAL,
        ),
    )
    citizen_file = await make_citizen_file(conn, onss, language="en")
    citizen = citizen_file.person
    helper = await create_person(conn, given_name="Pieter", family_name="Janssens")
    mandate = await create_mandate(conn, citizen, helper=helper)
    cpas = await create_organisation(conn)
    manager = await create_access_manager(conn, cpas)
    org_mandate = await create_mandate(conn, citizen, organisation=cpas, accepted_by=manager)
    event = await record_access(
        conn,
        citizen_id=citizen.person_id,
        accessor=Accessor(kind="institution", org_id=onss.organisation.org_id, client_id=onss.client_id),
        action="read",
        channel="api",
        categories=["dimona"],
        purpose_code=CONTRACT_PURPOSE,
    )
    await enqueue_notification(
        conn,
        citizen_id=citizen.person_id,
        kind="contest_answered",
        dedup_key="contract:1",
        payload={"contest_id": "00000000-0000-4000-8000-0000000000c1"},
    )
    notification_ids: list[str] = []
    for entry in await outbox_queries.claim_waiting(conn, limit=10):
        await materialise(conn, entry)
        await outbox_queries.update_enqueued(conn, entry.citizen_id, entry.outbox_id)
    notification_ids = [
        str(row["notification_id"])
        for row in await conn.fetch(
            "SELECT notification_id FROM notifications WHERE citizen_id = $1", citizen.person_id
        )
    ]
    # The citizen signs in; the same session is used for every citizen call of the run.
    session_id = await sessions.insert_session(conn, person_id=citizen.person_id, method="demo")
    token = sessions.issue_token(settings.secret_key, session_id=session_id, person_id=citizen.person_id)
    record_ids = [str(row["record_id"]) for row in await conn.fetch("SELECT record_id FROM records LIMIT 5")]
    csrf_token = generate_csrf_token(settings.secret_key)
    return ContractWorld(
        session_cookie=(sessions.cookie_name(settings.secure_cookies), token),
        csrf_cookie=(CSRF_COOKIE, csrf_token),
        institution_client_id=onss.client_id,
        institution_key=onss.key,
        known_ids={
            "mandate_id": [str(_id(mandate)), str(_id(org_mandate))],
            "event_id": [str(event.event_id)],
            "notification_id": notification_ids,
            "org_id": [str(cpas.org_id)],
            "agent_id": [str(manager.person_id), str(helper.person_id)],
            "category": ["dimona", "flexi_wages", "dmfa", "unknown"],
            "theme_code": ["work_and_wages", "benefits_and_risks"],
            "record_id": record_ids,
        },
    )


def _id(mandate: object) -> UUID:
    value = getattr(mandate, "mandate_id", None)
    assert isinstance(value, UUID)
    return value


@pytest.fixture(scope="module")
async def contract_world(contract_database_url: str, settings: Settings) -> ContractWorld:
    """The seeded, committed data of the contract run."""
    conn = await connect(contract_database_url)
    try:
        async with conn.transaction():
            return await _seed(conn, settings)
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def contract_app(contract_database_url: str, redis_url: str, contract_world: ContractWorld) -> Iterator[Litestar]:
    """The real app with its own pools (opened by its lifespan in schemathesis' event-loop thread, closed after)."""
    settings = load_settings({"VITRINE_ENV": "test", "DATABASE_URL": contract_database_url, "REDIS_URL": redis_url})
    app = create_app(settings, configure_logs=False)
    assert app.csrf_config is not None
    assert app.csrf_config.cookie_name == CSRF_COOKIE
    yield app
    asgi.shutdown_lifespans()


@pytest.fixture(scope="module")
def api_schema(contract_app: Litestar) -> OpenApiSchema:
    """The app's own OpenAPI description, as it serves it, restricted to the JSON API."""
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", contract_app)
    return schema
