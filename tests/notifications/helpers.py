"""Helpers of the notifications tests: an ONSS caller, flexi declarations ingested the way the wired ingest will
evaluate them, and a notice written straight through the outbox."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg

from backend.core.auth.assertions import InstitutionCaller
from backend.records.service import IngestOutcome, ingest_declarations
from notifications.flexi import evaluate_flexi_after_ingest
from notifications.outbox import enqueue_notification
from tests.factories import create_organisation


async def onss_caller(conn: asyncpg.Connection, code: str = "ONSS") -> InstitutionCaller:
    """The ONSS as an institution API caller (created for the test)."""
    onss = await create_organisation(conn, kind="institution", code=code)
    return InstitutionCaller(client_id=f"{code.lower()}-test", org_id=onss.org_id, org_code=code, jti="test")


async def ingest_and_evaluate(conn: asyncpg.Connection, caller: InstitutionCaller, items: list[Any]) -> IngestOutcome:
    """Ingest a batch and evaluate the flexi warnings in the same transaction, as backend/records/service.py will
    once the hook is wired (`evaluate_flexi_after_ingest(conn, outcome.accepted)` after the counters refresh)."""
    outcome = await ingest_declarations(conn, caller, items)
    await evaluate_flexi_after_ingest(conn, outcome.accepted)
    return outcome


async def owe_answer_notice(conn: asyncpg.Connection, citizen_id: UUID, contest_id: str) -> UUID | None:
    """A "your question was answered" notice owed to the person (the simplest kind to render)."""
    return await enqueue_notification(
        conn,
        citizen_id=citizen_id,
        kind="contest_answered",
        dedup_key=f"contest-answered:{contest_id}",
        payload={"contest_id": contest_id},
    )
