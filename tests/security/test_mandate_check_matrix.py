"""The mandate check institutions call, for each helper of the matrix's subject: READ against ACT, the theme
given against another, and revoked, expired and pending mandates. Every answer is in the subject's log, a
refusal as a denied event."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
from litestar import Litestar

from backend.core.settings import Settings
from tests.security.world import build_world

# (who is asked about, theme, access) -> the answer. The read helper holds work and wages READ, the act helper
# corrections ACT, the other-theme helper benefits READ; the organisation holds work and wages READ.
CHECKS: list[tuple[str, str, str, str]] = [
    ("helper_read", "work_and_wages", "read", "ALLOWED"),
    ("helper_read", "corrections", "act", "DISALLOWED"),
    ("helper_read", "benefits_and_risks", "read", "DISALLOWED"),
    ("helper_act", "corrections", "act", "ALLOWED"),
    ("helper_act", "work_and_wages", "read", "DISALLOWED"),
    ("helper_other_theme", "benefits_and_risks", "read", "ALLOWED"),
    ("helper_other_theme", "work_and_wages", "read", "DISALLOWED"),
    ("helper_revoked", "work_and_wages", "read", "DISALLOWED"),
    ("helper_expired", "work_and_wages", "read", "DISALLOWED"),
    ("helper_pending", "work_and_wages", "read", "DISALLOWED"),
    ("org", "work_and_wages", "read", "ALLOWED"),
    ("org", "benefits_and_risks", "read", "DISALLOWED"),
]


async def test_the_check_answers_per_mandate_and_logs_every_answer(
    app: Litestar, client: httpx.AsyncClient, conn: asyncpg.Connection, settings: Settings, redis: Any
) -> None:
    world = await build_world(conn, settings, app.state, redis)
    wrong: list[str] = []
    for mandatary, theme, access, expected in CHECKS:
        who = (
            {"mandatary_kbo": world.ids["org_kbo"]}
            if mandatary == "org"
            else {"mandatary_insz": world.ids[f"{mandatary}_insz"]}
        )
        body = {"citizen_insz": world.subject_insz, "theme": theme, "access": access, **who}
        denied_before = await world.denied_events(conn)
        response = await client.post("/api/v1/mandates/check", json=body, headers=world.headers("institution_purpose"))
        answer = response.json().get("result") if response.status_code == 200 else response.status_code
        last = await conn.fetchrow(
            "SELECT action, outcome FROM access_events WHERE citizen_id = $1 ORDER BY seq DESC LIMIT 1",
            world.subject.person_id,
        )
        logged = None if last is None else (last["action"], last["outcome"])
        outcome = "granted" if expected == "ALLOWED" else "denied"
        denied_added = await world.denied_events(conn) - denied_before
        if answer != expected or logged != ("check", outcome) or denied_added != (expected == "DISALLOWED"):
            wrong.append(f"{mandatary} {theme} {access}: {answer}, logged {logged}, {denied_added} denied event(s)")
    assert not wrong, "\n".join(wrong)
