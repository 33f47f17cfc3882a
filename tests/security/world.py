"""The people, mandates and records the authorisation matrix runs against, built through the real services.

One subject (whose data every path parameter names), another citizen, helpers in every mandate state, an
organisation with an assigned and an unassigned agent, desk staff, a reviewer and an institution. Each context
is one way of calling the app: a session cookie (with its acting context) or a signed institution assertion.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
from arq.connections import ArqRedis
from cryptography.hazmat.primitives.asymmetric import ec
from litestar.datastructures import State

from backend.access_log.contests import open_contest
from backend.access_log.schemas import Accessor
from backend.access_log.service import record_access
from backend.core.auth import sessions
from backend.core.auth.institution_keys import make_assertion
from backend.core.identifiers import parse_insz
from backend.core.identity import queries as identity_queries
from backend.core.identity.purposes import Purpose, upsert_purpose
from backend.core.identity.schemas import Person
from backend.core.settings import Settings
from backend.desk.mandates import DraftRequest, prepare_mandate
from backend.desk.sessions import open_session
from backend.records.error_reports import report_error
from backend.records.service import ingest_declarations
from consent import ending
from consent.agents import assign_agent
from consent.schemas import ThemeChoice
from notifications.push_subscriptions import register_subscription
from notifications.relay import run_relay_once
from tests.backend.desk.desk_data import open_request
from tests.backend.records.cloud_events import dimona, event
from tests.backend.records.institutions import LEGAL, Institution, make_institution
from tests.conftest import source_of
from tests.factories import (
    TEST_SECRET,
    _current_insz,
    create_access_manager,
    create_agent,
    create_mandate,
    create_organisation,
    create_person,
    create_staff,
    invite_helper,
    new_insz,
    new_kbo,
    signed_in,
)
from tests.notifications.helpers import owe_answer_notice
from tests.push_service import BrowserSubscription

# The institution's registered purpose covers Dimona; the purpose it is refused names nothing it holds.
PURPOSE = "pension_calculation"
UNREGISTERED_PURPOSE = "unemployment_benefit"

SESSION_CONTEXTS = (
    "citizen",
    "other_citizen",
    "helper_read",
    "helper_act",
    "helper_other_theme",
    "helper_revoked",
    "helper_expired",
    "helper_pending",
    "org_manager",
    "agent_assigned",
    "agent_unassigned",
    "desk",
    "desk_assisting",
    "reviewer",
)
INSTITUTION_CONTEXTS = ("institution_purpose", "institution_no_purpose")
CONTEXTS = ("anonymous", *SESSION_CONTEXTS, *INSTITUTION_CONTEXTS)


@dataclass
class World:
    """Everything a request of the matrix may need: the subject's ids, secrets to look for, and the callers."""

    subject: Person
    subject_insz: str
    other: Person
    institution: Institution
    ids: dict[str, Any]
    # What no refusal may reveal: the subject's name, national number and record contents.
    secrets: list[str]
    people: dict[str, Person] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, context: str) -> dict[str, str]:
        """Credentials of a context that are not cookies: a fresh single-use assertion for institutions."""
        if context not in INSTITUTION_CONTEXTS:
            return {}
        purpose = PURPOSE if context == "institution_purpose" else UNREGISTERED_PURPOSE
        token = make_assertion(self.institution.key, client_id=self.institution.client_id, kid="k1", purpose=purpose)
        return {"authorization": f"Bearer {token}"}

    def cookies(self, context: str, settings: Settings) -> dict[str, str]:
        """The session cookie of a context (none for anonymous callers and institutions)."""
        token = self.tokens.get(context)
        return {} if token is None else {sessions.cookie_name(settings.secure_cookies): token}

    async def denied_events(self, conn: asyncpg.Connection) -> int:
        """How many denied events the subject's access log holds."""
        count = await conn.fetchval(
            "SELECT count(*) FROM access_events WHERE citizen_id = $1 AND outcome = 'denied'", self.subject.person_id
        )
        return int(count)


async def _session(
    conn: asyncpg.Connection,
    settings: Settings,
    person: Person,
    *,
    acting_for: UUID | None = None,
    acting_org: UUID | None = None,
) -> str:
    session_id = await sessions.insert_session(conn, person_id=person.person_id, method="demo")
    if acting_for is not None or acting_org is not None:
        await sessions.update_acting_context(conn, session_id, acting_for=acting_for, acting_org=acting_org)
    return sessions.issue_token(settings.secret_key, session_id=session_id, person_id=person.person_id)


async def build_world(conn: asyncpg.Connection, settings: Settings, state: State, redis: ArqRedis) -> World:
    """Create the subject, every caller, and one of each thing a path can name, all the subject's."""
    insz = new_insz()
    subject = await create_person(conn, insz=insz, given_name="Wannes", family_name="Vandermatrix")
    other = await create_person(conn, given_name="Ilse", family_name="Anderburger")
    onss = await make_institution(conn, "ONSS")
    employer = new_kbo()
    ingest = await ingest_declarations(
        conn, onss.caller, [event(insz, "matrix-d-1", "dimona", dimona(employer))], now=datetime.now(UTC)
    )
    assert ingest.answer.accepted == 1, ingest.answer
    record_id = await conn.fetchval("SELECT record_id FROM records WHERE citizen_id = $1", subject.person_id)
    institution = await make_institution(conn, "SFP")
    await upsert_purpose(
        conn,
        Purpose(
            org_id=institution.organisation.org_id,
            code=PURPOSE,
            categories=("dimona",),
            authorisation_ref="IVC/TEST/matrix",
            **LEGAL,
        ),
    )

    helpers = {
        name: await create_person(conn, family_name=f"Helper{index}")
        for index, name in enumerate(
            ("helper_read", "helper_act", "helper_other_theme", "helper_revoked", "helper_expired", "helper_pending")
        )
    }
    read = await create_mandate(conn, subject, helper=helpers["helper_read"])
    await create_mandate(conn, subject, helper=helpers["helper_act"], themes=(("corrections", "act"),))
    await create_mandate(conn, subject, helper=helpers["helper_other_theme"], themes=(("benefits_and_risks", "read"),))
    revoked = await create_mandate(conn, subject, helper=helpers["helper_revoked"])
    await ending.end_mandate(conn, await signed_in(conn, subject), revoked.mandate_id)
    await create_mandate(
        conn, subject, helper=helpers["helper_expired"], duration="1_day", now=datetime.now(UTC) - timedelta(days=3)
    )
    await invite_helper(conn, subject, helper=helpers["helper_pending"])

    organisation = await create_organisation(conn)
    manager = await create_access_manager(conn, organisation)
    assigned = await create_agent(conn, organisation, family_name="Assigned")
    unassigned = await create_agent(conn, organisation, family_name="Unassigned")
    org_mandate = await create_mandate(conn, subject, organisation=organisation, accepted_by=manager)
    await assign_agent(conn, await signed_in(conn, manager), org_mandate.mandate_id, assigned.person_id)
    desk = await create_staff(conn, "support")
    assisting = await create_staff(conn, "support", family_name="Deskhelper")
    reviewer = await create_staff(conn, "reviewer")
    assisting_staff = await identity_queries.select_staff(conn, assisting.person_id)
    assert assisting_staff is not None
    session = await open_session(conn, assisting_staff, open_request(insz), secret=TEST_SECRET)
    draft = await prepare_mandate(
        conn,
        assisting_staff,
        session.session_id,
        DraftRequest(
            mandatary_insz=await _current_insz(conn, other),
            mandatary_family_name=other.family_name,
            mandatary_kbo=None,
            themes=[ThemeChoice(code="posting", access="read")],
            duration="1_month",
            acknowledge_high_risk=False,
        ),
        secret=TEST_SECRET,
    )
    browser = BrowserSubscription(
        token="matrix",
        endpoint="https://push.example.net/push/matrix",
        private_key=ec.generate_private_key(ec.SECP256R1()),
        auth_secret=os.urandom(16),
    )
    device = await register_subscription(
        conn, subject.person_id, browser.as_json(), user_agent="Firefox/133.0", allow_loopback_http=False
    )

    looked_up = await record_access(
        conn,
        citizen_id=subject.person_id,
        accessor=Accessor(kind="institution", org_id=institution.organisation.org_id, client_id=institution.client_id),
        action="read",
        channel="api",
        categories=["dimona"],
        record_refs=[str(record_id)],
        purpose_code=PURPOSE,
    )
    event_id = looked_up.event_id
    contest = await open_contest(conn, citizen_id=subject.person_id, event_id=event_id, key=state.service_key)
    report = await report_error(
        conn, citizen_id=subject.person_id, record_id=record_id, message="This employment never happened."
    )
    await owe_answer_notice(conn, subject.person_id, str(contest.contest_id))
    await run_relay_once(source_of(conn), redis)
    notification_id = await conn.fetchval(
        "SELECT notification_id FROM notifications WHERE citizen_id = $1", subject.person_id
    )

    people: dict[str, Person] = {
        "citizen": subject,
        "other_citizen": other,
        **helpers,
        "org_manager": manager,
        "agent_assigned": assigned,
        "agent_unassigned": unassigned,
        "desk": desk,
        "desk_assisting": assisting,
        "reviewer": reviewer,
    }
    tokens: dict[str, str] = {}
    for context, person in people.items():
        # Agents try to act for the subject too: the middleware keeps it only for the agent named for her mandate.
        acting_for = subject.person_id if context.startswith(("helper_", "agent_")) else None
        acting_org = organisation.org_id if context.startswith("agent_") else None
        tokens[context] = await _session(conn, settings, person, acting_for=acting_for, acting_org=acting_org)
    ids: dict[str, Any] = {
        "mandate_id": read.mandate_id,
        "org_id": organisation.org_id,
        "agent_id": assigned.person_id,
        "theme_code": "work_and_wages",
        "category": "dimona",
        "record_id": record_id,
        "event_id": event_id,
        "contest_id": contest.contest_id,
        "report_id": report.report_id,
        "notification_id": notification_id,
        "citizen_id": subject.person_id,
        "insz": insz,
        "other_insz": new_insz(),
        "helper_read_insz": await _current_insz(conn, helpers["helper_read"]),
        "org_mandate_id": org_mandate.mandate_id,
        "org_kbo": organisation.kbo,
        **{f"{name}_insz": await _current_insz(conn, helper) for name, helper in helpers.items()},
        "unassigned": unassigned.person_id,
        "session_id": session.session_id,
        "draft_id": draft.draft_id,
        "step": 1,
        "subscription_id": device.subscription_id,
        "employer": employer,
    }
    return World(
        subject=subject,
        subject_insz=insz,
        other=other,
        institution=institution,
        ids=ids,
        secrets=[subject.given_name, subject.family_name, insz, parse_insz(insz).formatted, employer],
        people=people,
        tokens=tokens,
    )
