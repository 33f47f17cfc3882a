"""Reviewers' list of assisted sessions per agent, with flags for unusual patterns (many sessions in a day, an
identity check instead of the person's own code, outside opening hours)."""

from __future__ import annotations

from typing import Any, Final

import asyncpg
from litestar import Request, get
from litestar.di import NamedDependency
from litestar.response import Template

from backend.core.auth.guards import requires_reviewer
from backend.core.i18n import N_, _, current_language
from backend.desk.citizen import moment
from backend.desk.labels import SCOPE_LABELS
from backend.desk.review import MANY_PER_DAY, sessions_per_agent
from frontend.rendering import page

REVIEW_PATH: Final = "/desk/review"
FLAG_LABELS: Final[dict[str, str]] = {
    "many_sessions": N_("Many sessions that day"),
    "identity_check": N_("Identity check instead of the person's code"),
    "outside_hours": N_("Outside opening hours"),
}


@get(REVIEW_PATH, name="desk-review", guards=[requires_reviewer], include_in_schema=False)
async def desk_review_page(request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]) -> Template:
    """Assisted sessions of the last 30 days per agent; only flagged ones with ?flagged=1, one agent with ?agent=."""
    agent = request.query_params.get("agent") or None
    flagged_only = request.query_params.get("flagged") == "1"
    language = current_language()
    groups = await sessions_per_agent(conn, agent_ref=agent[:40] if agent else None, flagged_only=flagged_only)
    return page(
        request,
        "pages/desk/review.html",
        flagged_only=flagged_only,
        agent=agent,
        many_per_day=MANY_PER_DAY,
        groups=[
            {
                "agent_ref": group.agent_ref,
                "office": group.office,
                "flagged": group.flagged,
                "sessions": [
                    {
                        "when": moment(item.session.opened_at, language),
                        "how": _("Presence code")
                        if item.session.verification == "presence_code"
                        else _("Identity check"),
                        "scopes": ", ".join(_(SCOPE_LABELS[scope]) for scope in item.session.scopes),
                        "reason": item.session.reason,
                        "actions": item.actions,
                        "flags": [_(FLAG_LABELS[flag]) for flag in item.flags],
                    }
                    for item in group.sessions
                ],
            }
            for group in groups
        ],
    )


ROUTES: Final[list[Any]] = [desk_review_page]
