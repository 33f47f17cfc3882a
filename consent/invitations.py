"""Answering an invitation with its code: the invited person, or any access manager of the invited organisation,
looks at what is offered, then accepts or declines. A code works once.

A code that does not exist and a code meant for someone else get the same answer, so codes cannot be probed
for whose they are. Rate limits per address and per account are counted by the caller (the route), in
transactions of their own, before the code is looked at.
"""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from backend.core.auth.actors import SignedIn
from backend.core.errors import FieldError, Problem
from backend.core.i18n import _
from consent import code_queries, codes, event_queries, mandate_queries, state_queries
from consent.code_queries import InvitationRow
from consent.mandate_queries import MandateRow
from consent.parties import side_of
from consent.schemas import MandateOut
from consent.views import mandates_out


def _refusal(kind: str, message: str) -> Problem:
    return Problem(422, message, kind=kind, errors=[FieldError(field="code", message=message)])


def _unknown_code() -> Problem:
    return _refusal(
        "invitation-code-unknown",
        _("No invitation for you matches this code. Check the code, or ask the person for a new one."),
    )


async def _invitation(
    conn: asyncpg.Connection, user: SignedIn, entered: str, at: datetime
) -> tuple[InvitationRow, MandateRow]:
    """The invitation this code opens for the signed-in person, or a clear refusal naming the code."""
    code = codes.normalise(entered)
    if code is None:
        raise _refusal(
            "invitation-code-format",
            _("A code has 12 letters and digits, such as BCDF-GHJK-MNPQ. Check what you typed."),
        )
    found = await code_queries.select_invitations_by_code(conn, codes.code_hash(code))
    if len(found) != 1:
        raise _unknown_code()
    invitation = found[0]
    row = await mandate_queries.select_mandate(conn, invitation.mandate_id, at)
    if row is None or row.citizen_id != invitation.citizen_id or await side_of(conn, user, row) != "mandatary":
        raise _unknown_code()
    if invitation.used_at is not None:
        raise _refusal("invitation-code-used", _("This code has already been used. A code works only once."))
    if invitation.cancelled_at is not None or row.state in ("revoked", "declined"):
        raise _refusal("invitation-code-cancelled", _("This invitation was cancelled by the person who gave it."))
    if row.state != "pending" or row.accepted_at is not None:
        raise _refusal(
            "invitation-code-expired",
            _("This code has expired: a code is valid for 14 days. Ask the person for a new invitation."),
        )
    return invitation, row


async def _out(conn: asyncpg.Connection, row: MandateRow, user: SignedIn, at: datetime) -> MandateOut:
    fresh = await mandate_queries.select_mandate(conn, row.mandate_id, at)
    assert fresh is not None
    return (await mandates_out(conn, [fresh], user.person.language, at))[0]


async def preview_invitation(
    conn: asyncpg.Connection, user: SignedIn, entered: str, *, now: datetime | None = None
) -> MandateOut:
    """What the code offers (who, which themes, how long), before accepting or declining."""
    at = now or datetime.now(UTC)
    _invitation_row, row = await _invitation(conn, user, entered, at)
    return await _out(conn, row, user, at)


async def accept_invitation(
    conn: asyncpg.Connection, user: SignedIn, entered: str, *, now: datetime | None = None
) -> MandateOut:
    """Accept: the mandate starts now and runs for the chosen duration; the code is spent."""
    at = now or datetime.now(UTC)
    invitation, row = await _invitation(conn, user, entered, at)
    await state_queries.lock_citizen_mandates(conn, row.citizen_id)
    themes = await mandate_queries.select_mandate_themes(conn, [(row.citizen_id, row.mandate_id)], at)
    held = await mandate_queries.select_open_theme_codes(
        conn,
        citizen_id=row.citizen_id,
        mandatary_person_id=row.mandatary_person_id,
        mandatary_org_id=row.mandatary_org_id,
        codes=[theme.code for theme in themes],
        at=at,
    )
    if any(state == "active" for _code, state, _end in held):
        raise Problem(
            409,
            _("You already hold an active mandate from this person for one of these themes. It must end first."),
            kind="mandate-exists",
        )
    if (
        await state_queries.update_accepted(conn, row.citizen_id, row.mandate_id, by=user.person.person_id, at=at)
        is None
    ):
        raise _unknown_code()
    await code_queries.update_invitation_used(conn, invitation.citizen_id, invitation.mandate_id, at)
    await event_queries.insert_event(
        conn,
        citizen_id=row.citizen_id,
        mandate_id=row.mandate_id,
        kind="accepted",
        actor_side="mandatary",
        actor_person_id=user.person.person_id,
        actor_org_id=row.mandatary_org_id,
        occurred_at=at,
    )
    return await _out(conn, row, user, at)


async def decline_invitation(
    conn: asyncpg.Connection,
    user: SignedIn,
    entered: str,
    *,
    reason: str | None = None,
    now: datetime | None = None,
) -> MandateOut:
    """Decline: the mandate never starts; the code is spent."""
    at = now or datetime.now(UTC)
    invitation, row = await _invitation(conn, user, entered, at)
    me = user.person.person_id
    if not await state_queries.update_declined(conn, row.citizen_id, row.mandate_id, by=me, reason=reason, at=at):
        raise _unknown_code()
    await code_queries.update_invitation_used(conn, invitation.citizen_id, invitation.mandate_id, at)
    await event_queries.insert_event(
        conn,
        citizen_id=row.citizen_id,
        mandate_id=row.mandate_id,
        kind="declined",
        actor_side="mandatary",
        actor_person_id=me,
        actor_org_id=row.mandatary_org_id,
        reason=reason,
        occurred_at=at,
    )
    return await _out(conn, row, user, at)
