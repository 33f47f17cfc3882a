"""The authorisation matrix: every route of the real app against every kind of caller.

The routes come from `app.routes` of `backend.app.create_app`, so a new route without an entry in ROUTES fails
`test_every_route_has_a_rule` by name. Each entry names a RULE (who may use the route); the rule gives the expected
outcome for each context of `tests/security/world.py`: the subject themself, another citizen, helpers under a
read, act or other-theme mandate (acting for the subject), helpers whose mandate was revoked, has expired or is
still pending, an organisation's access manager and its assigned and unassigned agents (both trying to act for
the subject as the organisation's agents), desk staff without an assisted session and the agent who opened one,
a reviewer, and an institution with and without a registered purpose.

Path parameters name the subject's things (their mandate, record, contest, report, notification …), so every
other caller is asking about someone else's data. Each request runs in a savepoint rolled back afterwards, so
an allowed change never disturbs the next request. Outcomes:

- `ok`: the caller got through the authorisation (a success, or an answer about the input: 400, 409, 422);
- `auth`: not signed in (401, or for a page read a redirect to the sign-in page);
- `403`, `404`: refused (404 where the app does not say whether someone else's thing exists);
- a trailing `+log`: the refusal is written as a denied event in the subject's access log.

No refusal may show the subject's national number or record contents, and none shown to anyone but the subject
and the helpers acting for them may show the subject's name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest
from arq.connections import ArqRedis
from litestar import Litestar

from backend.core.settings import Settings
from frontend.assets import static_url
from tests.security.calling import call, csrf_pair, fill_path
from tests.security.world import CONTEXTS, PURPOSE, UNREGISTERED_PURPOSE, World, build_world

# Sessions acting for the subject: helpers under their own mandates, and the agent named for her organisation's.
ACTING = ("helper_read", "helper_act", "helper_other_theme", "agent_assigned")
SESSIONS = tuple(c for c in CONTEXTS if c != "anonymous" and not c.startswith("institution"))


def rule(default: str, *, anonymous: str = "auth", institutions: str = "auth", **contexts: str) -> dict[str, str]:
    """The expected outcome per context: `default` for every signed-in context not named."""
    table = dict.fromkeys(SESSIONS, default)
    table.update(anonymous=anonymous, institution_purpose=institutions, institution_no_purpose=institutions)
    table.update(contexts)
    return table


def _only(allowed: tuple[str, ...], refused: str) -> dict[str, str]:
    return rule(refused, **dict.fromkeys(allowed, "ok"))


ACTING_403 = dict.fromkeys(ACTING, "403")
RULES: dict[str, dict[str, str]] = {
    "public": rule("ok", anonymous="ok", institutions="ok"),
    "signed-in": rule("ok"),
    # One's own data, without ids: refused while acting for someone (helpers do not read the subject's data here).
    "citizen-own": rule("ok", **ACTING_403),
    # One of the subject's things by id: everyone else is told it does not exist.
    "citizen-own-item": rule("404", citizen="ok", **ACTING_403),
    # Either side of the subject's mandate with the read helper.
    "mandate-party": rule("404", citizen="ok", helper_read="ok"),
    "mandate-citizen": rule("404", citizen="ok", helper_read="403"),
    "mandate-mandatary": rule("404", helper_read="ok"),
    "mandates-not-acting": rule("ok", **ACTING_403),
    # One's own notices: acting for someone, a helper still reads only their own.
    "own-notice": rule("404", citizen="ok"),
    # Starting to act for the subject: refusals of anyone but the subject go to the subject's log. The agent the
    # organisation names for the subject's mandate may, working as its agent.
    "act-for": rule(
        "403+log", citizen="403", helper_read="ok", helper_act="ok", helper_other_theme="ok", agent_assigned="ok"
    ),
    "access-manager": _only(("org_manager",), "403"),
    # People who work for an organisation (their own client list holds only the clients they are named for).
    "agent": _only(("org_manager", "agent_assigned", "agent_unassigned"), "403"),
    # An organisation's mandate by id: nobody but its access managers learns that it exists.
    "org-mandate": rule("404", org_manager="ok"),
    # What is held about the subject: a helper sees what the mandate's themes cover, and a refusal is logged.
    "records": rule("ok"),
    "records-category": rule("ok", helper_act="403+log", helper_other_theme="403+log"),
    "record-report": rule(
        "404", citizen="ok", helper_read="ok", agent_assigned="ok", helper_act="403+log", helper_other_theme="403+log"
    ),
    # Reporting an error in a record is an act under the corrections theme (and needs to see the record).
    "record-report-write": rule("404", citizen="ok", **dict.fromkeys(ACTING, "403+log")),
    "reviewer": _only(("reviewer",), "403"),
    "staff": _only(("desk", "desk_assisting", "reviewer"), "403"),
    "desk": _only(("desk", "desk_assisting"), "403"),
    # Inside an assisted session: only the agent who opened it; another desk agent's attempt is logged.
    "desk-session": rule("403", desk="403+log", desk_assisting="ok"),
    "institution": rule(
        "auth", institution_purpose="ok", institution_no_purpose="403", anonymous="auth", institutions="auth"
    ),
    "institution:lookup": rule(
        "auth", institution_purpose="ok", institution_no_purpose="403+log", anonymous="auth", institutions="auth"
    ),
    "not-configured": rule("404", anonymous="404", institutions="404"),
}

Body = Callable[[World, str], dict[str, Any]]
# METHOD path: (rule, path parameters naming other things than the defaults, body).
ROUTES: dict[str, tuple[str, dict[str, str], Body | None]] = {}


def route(key: str, rule_name: str, params: dict[str, str] | None = None, body: Body | None = None) -> None:
    """Add one route's entry to the table."""
    assert key not in ROUTES, f"{key} is listed twice"
    ROUTES[key] = (rule_name, params or {}, body)


def form(**fields: str) -> Body:
    """A form body built from world ids named by the field values."""
    return lambda world, _: {"data": {name: str(world.ids.get(value, value)) for name, value in fields.items()}}


def json(**fields: Any) -> Body:
    """A JSON body built from world ids named by the field values."""
    return lambda world, _: {"json": {name: str(world.ids.get(value, value)) for name, value in fields.items()}}


def _lookup(world: World, context: str) -> dict[str, Any]:
    purpose = PURPOSE if context != "institution_no_purpose" else UNREGISTERED_PURPOSE
    return {"json": {"insz": world.subject_insz, "categories": ["dimona"], "purpose": purpose}}


ORG_MANDATE = {"mandate_id": "org_mandate_id"}
for key in ("GET /", "GET /accessibility", "POST /language", "GET /static/{name:path}", "GET /healthz", "GET /readyz"):
    route(key, "public")
for key in ("GET /metrics", "GET /.well-known/vitrine-keys.json", "POST /api/v1/access-log/receipts/verify"):
    route(key, "public")
for key in ("GET /schema", "GET /schema/openapi.json", "GET /schema/openapi.yaml", "GET /schema/openapi.yml"):
    route(key, "public")
route("GET /schema/{path:str}", "not-configured")
route("GET /sign-in", "public")
route("POST /sign-out", "public")
route("GET /auth/oidc/start", "not-configured")
route("GET /auth/oidc/callback", "not-configured")
for key in ("GET /api/v1/institution/purposes", "GET /api/v1/institution/whoami", "POST /api/v1/access-events"):
    route(key, "institution")
route("POST /api/v1/declarations", "institution")
# The declaring institution's error reports (an empty body: 422 once the caller is let in).
for key in (
    "GET /api/v1/record-error-reports",
    "POST /api/v1/record-error-reports/{report_id:uuid}/answer",
    "POST /api/v1/record-error-reports/{report_id:uuid}/close",
):
    route(key, "institution")
route("POST /api/v1/lookups", "institution:lookup", body=_lookup)
route(
    "POST /api/v1/mandates/check",
    "institution",
    body=json(citizen_insz="insz", theme="work_and_wages", access="read", mandatary_insz="helper_read_insz"),
)
for key in (
    "GET /api/v1/me/access-log/receipt",
    "GET /api/v1/me/access-events/export.csv",
    "GET /api/v1/me/access-events/export.json",
    "GET /api/v1/me/access-events",
    "GET /access-log",
    "GET /api/v1/me/access-contests",
    "POST /access-log/alerts",
):
    route(key, "citizen-own")
for key in (
    "POST /api/v1/me/access-events/{event_id:uuid}/contest",
    "GET /api/v1/me/access-contests/{contest_id:uuid}",
    "POST /access-log/events/{event_id:uuid}/contest",
    "GET /access-log/contests/{contest_id:uuid}",
    "POST /access-log/contests/{contest_id:uuid}/message",
    "GET /helpers/{mandate_id:uuid}/end",
    "POST /helpers/{mandate_id:uuid}/end",
    "GET /helpers/{mandate_id:uuid}/themes/{theme_code:str}/end",
    "POST /helpers/{mandate_id:uuid}/themes/{theme_code:str}/end",
    "POST /helpers/{mandate_id:uuid}/cancel",
):
    route(key, "citizen-own-item")
for key in (
    "GET /api/v1/me/records/export.json",
    "GET /api/v1/me/records",
    "GET /api/v1/me/record-error-reports",
    "GET /my-data",
    "GET /my-data/print",
    "GET /my-data/error-reports",
):
    route(key, "records")
for key in ("GET /api/v1/me/records/{category:str}", "GET /my-data/{category:str}"):
    route(key, "records-category")
for key in ("GET /api/v1/me/record-error-reports/{report_id:uuid}", "GET /my-data/error-reports/{report_id:uuid}"):
    route(key, "record-report")
for key in (
    "GET /my-data/{category:str}/{record_id:uuid}/report-error",
    "POST /my-data/{category:str}/{record_id:uuid}/report-error",
):
    route(key, "record-report-write")
route(
    "POST /api/v1/me/record-error-reports",
    "record-report-write",
    body=json(record_id="record_id", message="This employment never happened at all."),
)
for key in ("GET /review", "GET /review/cases/{contest_id:uuid}", "GET /review/flags"):
    route(key, "reviewer")
for action in ("answer", "escalate", "close", "reveal"):
    route(f"POST /review/cases/{{contest_id:uuid}}/{action}", "reviewer")
for key in ("GET /staff/notification-templates", "GET /staff/deliveries"):
    route(key, "staff")
for key in (
    "POST /api/v1/mandates/invitations/accept",
    "POST /api/v1/mandates/invitations/decline",
    "POST /api/v1/mandates/invitations/preview",
    "POST /api/v1/mandates",
    "GET /api/v1/mandates/legal-text",
    "GET /api/v1/mandates/received",
    "GET /api/v1/mandates/themes",
    "GET /access-log/made-by-me",
    "GET /helping",
    "GET /helping/accept",
    "POST /helping/accept",
    "POST /helping/accept/answer",
    "GET /my",
    "POST /acting-context",
):
    route(key, "signed-in")
for key in ("GET /api/v1/mandates", "GET /helpers", "GET /helpers/new", "GET /helpers/timeline"):
    route(key, "mandates-not-acting")
for step in ("who", "what", "confirm"):
    route(f"POST /helpers/new/{step}", "mandates-not-acting")
route("POST /api/v1/mandates/{mandate_id:uuid}/cancel", "mandate-citizen")
route("POST /api/v1/mandates/{mandate_id:uuid}/end", "mandate-party", body=json())
route("POST /api/v1/mandates/{mandate_id:uuid}/themes/{theme_code:str}/end", "mandate-party", body=json())
route("GET /api/v1/mandates/{mandate_id:uuid}/receipt.jwt", "mandate-party")
route("GET /helpers/{mandate_id:uuid}/receipt", "mandate-party")
route("GET /helping/{mandate_id:uuid}/end", "mandate-mandatary")
route("POST /helping/{mandate_id:uuid}/end", "mandate-party")
route("POST /helping/act", "act-for", body=form(citizen_id="citizen_id"))
# An organisation's mandates and agents: its access managers only.
route("POST /api/v1/mandates/{mandate_id:uuid}/agents", "org-mandate", ORG_MANDATE, json(agent_id="unassigned"))
route("DELETE /api/v1/mandates/{mandate_id:uuid}/agents/{agent_id:uuid}", "org-mandate", ORG_MANDATE)
route("POST /api/v1/mandates/organisations/{org_id:uuid}/agents", "access-manager", body=json(agent_id="unassigned"))
route("GET /api/v1/mandates/organisations/{org_id:uuid}", "access-manager")
route("DELETE /api/v1/mandates/organisations/{org_id:uuid}/agents/{agent_id:uuid}", "access-manager")
route("GET /organisation/clients", "access-manager")
route("GET /organisation/my-clients", "agent")
org_form = form(org_id="org_id", agent_id="unassigned")
route("POST /organisation/clients/mandates/{mandate_id:uuid}/agents", "access-manager", ORG_MANDATE, org_form)
route("POST /organisation/clients/mandates/{mandate_id:uuid}/agents/remove", "access-manager", ORG_MANDATE, org_form)
route("POST /organisation/clients/agents", "access-manager", body=org_form)
route("POST /organisation/clients/agents/remove", "access-manager", body=org_form)
# One's own notices: a notice of the subject is not found for anyone else.
for key in (
    "POST /api/v1/me/notifications/{notification_id:uuid}/archive",
    "GET /api/v1/me/notifications/{notification_id:uuid}",
    "POST /api/v1/me/notifications/{notification_id:uuid}/read",
    "GET /inbox/{notification_id:uuid}",
    "POST /inbox/{notification_id:uuid}/read",
    "POST /inbox/{notification_id:uuid}/archive",
):
    route(key, "own-notice")
for key in (
    "GET /api/v1/me/notifications",
    "GET /api/v1/me/notifications/preferences",
    "PUT /api/v1/me/notifications/preferences",
    "GET /api/v1/me/notifications/unread-count",
    "GET /inbox",
    "GET /inbox/preferences",
    "POST /inbox/preferences",
    "POST /inbox/quiet-hours",
    "GET /api/v1/me/push-subscriptions",
    "POST /api/v1/me/push-subscriptions",
    "GET /api/v1/me/push-subscriptions/public-key",
):
    route(key, "signed-in")
for key in (
    "DELETE /api/v1/me/push-subscriptions/{subscription_id:uuid}",
    "POST /inbox/devices/{subscription_id:uuid}/remove",
):
    route(key, "own-notice")
route("GET /sw.js", "public")
# Help at a desk: the person's own side (presence codes, confirming a mandate prepared at the desk).
for key in (
    "GET /desk-help",
    "POST /desk-help/code",
    "GET /desk-help/confirm",
    "POST /desk-help/confirm",
    "POST /desk-help/confirm/answer",
):
    route(key, "citizen-own")
# The desk: support staff; inside a session only the agent who opened it.
route("GET /desk", "desk")
route("POST /desk/sessions", "desk")
route("GET /desk/review", "reviewer")
for key in (
    "GET /desk/sessions/{session_id:uuid}",
    "POST /desk/sessions/{session_id:uuid}/extend",
    "POST /desk/sessions/{session_id:uuid}/end",
    "GET /desk/sessions/{session_id:uuid}/data/{step:int}",
    "GET /desk/sessions/{session_id:uuid}/summary",
    "GET /desk/sessions/{session_id:uuid}/contact",
    "POST /desk/sessions/{session_id:uuid}/contact",
    "GET /desk/sessions/{session_id:uuid}/records/{record_id:uuid}/report",
    "POST /desk/sessions/{session_id:uuid}/records/{record_id:uuid}/report",
    "GET /desk/sessions/{session_id:uuid}/mandates",
    "POST /desk/sessions/{session_id:uuid}/mandates",
    "GET /desk/sessions/{session_id:uuid}/mandates/{draft_id:uuid}/form",
    "POST /desk/sessions/{session_id:uuid}/mandates/{draft_id:uuid}/signed",
):
    route(key, "desk-session")


def app_routes(app: Litestar) -> list[str]:
    """Every `METHOD path` the app answers (the automatic OPTIONS and HEAD answers aside)."""
    return sorted(
        f"{method} {handled.path}"
        for handled in app.routes
        for method in getattr(handled, "methods", ())
        if method not in ("OPTIONS", "HEAD")
    )


def test_every_route_has_a_rule(app: Litestar) -> None:
    routes = app_routes(app)
    missing = [key for key in routes if key not in ROUTES]
    assert not missing, "routes without an entry in the authorisation matrix (add them to ROUTES): " + ", ".join(
        missing
    )
    stale = [key for key in ROUTES if key not in routes]
    assert not stale, "entries of routes the app no longer has: " + ", ".join(stale)
    unknown = {rule_name for rule_name, _, _ in ROUTES.values()} - set(RULES)
    assert not unknown, f"rules without a definition: {unknown}"
    assert all(set(table) == set(CONTEXTS) for table in RULES.values())


def _refusal_leaks(world: World, context: str, text: str) -> list[str]:
    """The subject's data found in a refusal's body (their name only counts for callers who may not see it)."""
    secrets = world.secrets if context not in ("citizen", *ACTING) else world.secrets[2:]
    return [secret for secret in secrets if secret in text]


# Three groups of callers, one world each: pytest-xdist runs them side by side.
GROUPS = {
    "citizens-and-institutions": (
        "anonymous",
        "citizen",
        "other_citizen",
        "institution_purpose",
        "institution_no_purpose",
    ),
    "helpers": tuple(c for c in CONTEXTS if c.startswith("helper_")),
    "organisations-and-staff": (
        "org_manager",
        "agent_assigned",
        "agent_unassigned",
        "desk",
        "desk_assisting",
        "reviewer",
    ),
}


def test_the_groups_hold_every_context_once() -> None:
    assert sorted(c for group in GROUPS.values() for c in group) == sorted(CONTEXTS)


@pytest.mark.parametrize("group", list(GROUPS))
async def test_authorisation_matrix(
    app: Litestar,
    client: httpx.AsyncClient,
    conn: asyncpg.Connection,
    settings: Settings,
    redis: ArqRedis,
    group: str,
) -> None:
    world = await build_world(conn, settings, app.state, redis)
    world.ids["name"] = static_url("css/app.css").removeprefix("/static/")
    world.ids["path"] = "nothing-here"
    csrf = await csrf_pair(client)
    mismatches: list[str] = []
    for key in app_routes(app):
        if key not in ROUTES:
            continue  # reported by test_every_route_has_a_rule
        rule_name, names, body = ROUTES[key]
        method, path = key.split(" ", 1)
        url = fill_path(path, world, names)
        for context in GROUPS[group]:
            answer = await call(
                client,
                conn,
                settings,
                world,
                context=context,
                method=method,
                url=url,
                body=body(world, context) if body else {},
                csrf=csrf,
            )
            expected = RULES[rule_name][context]
            if answer.outcome != expected:
                mismatches.append(
                    f"{key} as {context} [{rule_name}]: expected {expected}, got {answer.outcome} "
                    f"({answer.response.status_code} {answer.response.text[:100]!r})"
                )
            if answer.refused and (leaks := _refusal_leaks(world, context, answer.response.text)):
                mismatches.append(f"{key} as {context}: the refusal shows the subject's data ({len(leaks)} item(s))")
    assert not mismatches, f"{len(mismatches)} answers differ from the matrix:\n" + "\n".join(mismatches)
