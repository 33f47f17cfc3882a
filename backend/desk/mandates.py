"""Mandates prepared at the desk: the agent fills in the person's choice, and nothing is given until the person
confirms on a channel of their own.

The person confirms either on their own phone, entering the code sent to their inbox (announced by e-mail), or
on a printed form signed at the desk, whose reference the agent records. Only then is the mandate invited through
`consent.service.invite`, exactly as if the person had made it themselves; the helper still accepts it with the
invitation code, so it becomes active only then. Preparing runs the same rules once in a savepoint that is
rolled back, so a choice the consent rules refuse is refused at the desk, with the same words.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Final
from uuid import UUID

import asyncpg
import msgspec

from backend.core.auth.actors import SignedIn
from backend.core.errors import FieldError, Problem, validation_problem
from backend.core.i18n import _
from backend.core.identity import queries as identity_queries
from backend.core.identity.schemas import Person, StaffMember
from backend.desk import code_queries, codes, session_queries
from backend.desk.audit import log_step
from backend.desk.gate import session_for
from backend.desk.notices import send_mandate_code
from backend.desk.schemas import MANDATE_CODE_VALIDITY, MandateDraft
from consent import service as consent_service
from consent import theme_queries
from consent.schemas import InvitationCreated, LegalText, MandateInvite, ThemeChoice

DESK_DURATIONS: Final = ("1_day", "1_month", "6_months", "1_year")


class DraftRequest(msgspec.Struct, frozen=True, kw_only=True):
    """The helper and the choice, as the agent entered them with the person."""

    mandatary_insz: str | None
    mandatary_family_name: str | None
    mandatary_kbo: str | None
    themes: list[ThemeChoice]
    duration: str
    acknowledge_high_risk: bool


def form_reference(draft: MandateDraft) -> str:
    """The reference printed on a draft's form: the agent types it back once the person has signed."""
    return f"VM-{draft.draft_id.hex[:8].upper()}"


def _as_citizen(person: Person, session_id: uuid.UUID) -> SignedIn:
    """The person as the one who gives the mandate (consent's invite acts for the citizen, never for staff)."""
    return SignedIn(person=person, session_id=session_id, memberships=(), staff=None, acting_for=None, acting_org=None)


def _invite_data(request: DraftRequest, text: LegalText) -> MandateInvite:
    return MandateInvite(
        mandatary_insz=request.mandatary_insz,
        mandatary_family_name=request.mandatary_family_name,
        mandatary_kbo=request.mandatary_kbo,
        themes=request.themes,
        duration=request.duration,  # type: ignore[arg-type]
        legal_text_version=text.version,
        legal_text_language=text.language,
        legal_text_sha256=text.sha256,
        acknowledge_high_risk=request.acknowledge_high_risk,
    )


async def prepare_mandate(
    conn: asyncpg.Connection,
    staff: StaffMember,
    session_id: UUID,
    request: DraftRequest,
    *,
    secret: str,
    now: datetime | None = None,
) -> MandateDraft:
    """Keep the prepared mandate and send its confirmation code to the person's own inbox (and e-mail)."""
    at = now or datetime.now(UTC)
    session = await session_for(conn, staff, session_id, "mandates", now=at)
    if request.duration not in DESK_DURATIONS:
        raise validation_problem([FieldError(field="duration", message=_("Choose how long the mandate lasts."))])
    citizen = await identity_queries.select_person(conn, session.citizen_id)
    assert citizen is not None
    text = await consent_service.current_legal_text(conn, citizen.language, now=at)
    trial = conn.transaction()
    await trial.start()
    try:
        invited = await consent_service.invite(
            conn, _as_citizen(citizen, session.session_id), _invite_data(request, text), now=at
        )
    finally:
        # Only the rules were wanted: the mandate is invited for real when the person confirms.
        await trial.rollback()
    code = codes.new_code()
    expires_at = at + MANDATE_CODE_VALIDITY
    draft = await code_queries.insert_draft(
        conn,
        citizen_id=session.citizen_id,
        session_id=session.session_id,
        mandatary_person_id=invited.mandate.mandatary.person_id,
        mandatary_org_id=invited.mandate.mandatary.org_id,
        mandatary_label=invited.mandate.mandatary.name,
        themes=[{"code": choice.code, "access": choice.access} for choice in request.themes],
        duration=request.duration,
        legal_text_version=text.version,
        legal_text_language=text.language,
        legal_text_sha256=text.sha256,
        created_at=at,
        code_hmac=codes.code_hmac(secret, "mandate", session.citizen_id, code),
        code_expires_at=expires_at,
    )
    await send_mandate_code(conn, session, draft_id=draft.draft_id, code=code, expires_at=expires_at)
    await log_step(
        conn, session, kind="mandate_prepared", action="change", at=at, detail=invited.mandate.mandatary.name[:300]
    )
    return draft


async def _invite_from_draft(
    conn: asyncpg.Connection, citizen: SignedIn, draft: MandateDraft, at: datetime
) -> InvitationCreated:
    """Invite the helper exactly as prepared, with the consent text the person was shown."""
    insz = None
    family_name = None
    kbo = None
    if draft.mandatary_person_id is not None:
        helper = await identity_queries.select_person(conn, draft.mandatary_person_id)
        insz = await identity_queries.select_current_insz(conn, draft.mandatary_person_id)
        family_name = None if helper is None else helper.family_name
    elif draft.mandatary_org_id is not None:
        organisation = await identity_queries.select_organisation(conn, draft.mandatary_org_id)
        kbo = None if organisation is None else organisation.kbo
    data = MandateInvite(
        mandatary_insz=insz,
        mandatary_family_name=family_name,
        mandatary_kbo=kbo,
        themes=[ThemeChoice(code=t["code"], access=t["access"]) for t in draft.themes],  # type: ignore[arg-type]
        duration=draft.duration,  # type: ignore[arg-type]
        legal_text_version=draft.legal_text_version,
        legal_text_language=draft.legal_text_language,  # type: ignore[arg-type]
        legal_text_sha256=draft.legal_text_sha256,
        acknowledge_high_risk=True,  # acknowledged with the agent at preparation, and again by confirming
    )
    return await consent_service.invite(conn, citizen, data, now=at)


def _code_problem(message: str, kind: str) -> Problem:
    return Problem(422, message, kind=kind, errors=[FieldError(field="code", message=message)])


async def draft_for_code(
    conn: asyncpg.Connection, user: SignedIn, entered: str, *, secret: str, now: datetime | None = None
) -> MandateDraft:
    """The person's waiting draft that this code confirms, or a refusal naming the code."""
    at = now or datetime.now(UTC)
    if user.acting_for_someone:
        raise Problem(403, _("Switch back to yourself to confirm a mandate of your own."), kind="desk-acting-for")
    code = codes.normalise(entered)
    if code is None:
        raise _code_problem(_("The code has 6 digits. Check what you typed."), "desk-mandate-code-format")
    citizen_id = user.person.person_id
    draft = await code_queries.select_draft_by_code(
        conn, citizen_id, codes.code_hmac(secret, "mandate", citizen_id, code)
    )
    if draft is None:
        raise _code_problem(
            _("No mandate waiting for you matches this code. Check the code in your messages."),
            "desk-mandate-code-unknown",
        )
    if draft.confirmed_at is not None:
        raise _code_problem(_("This mandate is already confirmed. A code works only once."), "desk-mandate-code-used")
    if at >= draft.code_expires_at:
        raise _code_problem(
            _("This code has expired. Go back to the desk to prepare the mandate again."), "desk-mandate-code-expired"
        )
    return draft


async def confirm_on_own_phone(
    conn: asyncpg.Connection, user: SignedIn, entered: str, *, secret: str, now: datetime | None = None
) -> InvitationCreated:
    """The person confirms with their code: the mandate is invited now, and the helper's code is shown once."""
    at = now or datetime.now(UTC)
    draft = await draft_for_code(conn, user, entered, secret=secret, now=at)
    invited = await _invite_from_draft(conn, user, draft, at)
    await code_queries.update_confirmed(
        conn,
        draft.citizen_id,
        draft.draft_id,
        at=at,
        via="own_phone",
        form_reference=None,
        mandate_id=invited.mandate.mandate_id,
    )
    await session_queries.insert_action(
        conn,
        citizen_id=draft.citizen_id,
        session_id=draft.session_id,
        kind="mandate_confirmed",
        occurred_at=at,
        detail="own_phone",
    )
    return invited


async def record_signed_form(
    conn: asyncpg.Connection,
    staff: StaffMember,
    session_id: UUID,
    draft_id: uuid.UUID,
    reference: str,
    *,
    now: datetime | None = None,
) -> InvitationCreated:
    """The agent records the form the person signed at the desk (with its reference): the mandate is invited."""
    at = now or datetime.now(UTC)
    session = await session_for(conn, staff, session_id, "mandates", now=at)
    draft = await code_queries.select_draft(conn, session.citizen_id, draft_id)
    if draft is None or draft.session_id != session.session_id:
        raise Problem(404, _("There is no such prepared mandate in this session."), kind="desk-draft-unknown")
    if draft.confirmed_at is not None:
        message = _("This mandate is already confirmed.")
        raise Problem(
            409, message, kind="desk-draft-confirmed", errors=[FieldError(field="reference", message=message)]
        )
    text = reference.strip().upper()
    if text != form_reference(draft):
        message = _("This is not the reference printed on this mandate's form. Check the signed form.")
        raise validation_problem([FieldError(field="reference", message=message)])
    citizen = await identity_queries.select_person(conn, session.citizen_id)
    assert citizen is not None
    invited = await _invite_from_draft(conn, _as_citizen(citizen, session.session_id), draft, at)
    await code_queries.update_confirmed(
        conn,
        draft.citizen_id,
        draft.draft_id,
        at=at,
        via="signed_form",
        form_reference=text,
        mandate_id=invited.mandate.mandate_id,
    )
    await log_step(conn, session, kind="mandate_confirmed", action="change", at=at, detail=f"signed form {text}")
    return invited


async def drafts_of_session(
    conn: asyncpg.Connection, staff: StaffMember, session_id: UUID, *, now: datetime | None = None
) -> list[MandateDraft]:
    """The mandates prepared in the agent's open session."""
    session = await session_for(conn, staff, session_id, "mandates", now=now)
    return await code_queries.select_drafts_of_session(conn, session.citizen_id, session.session_id)


async def draft_in_session(
    conn: asyncpg.Connection, staff: StaffMember, session_id: UUID, draft_id: uuid.UUID, *, now: datetime | None = None
) -> tuple[MandateDraft, LegalText]:
    """One prepared mandate of the agent's open session, with its consent text (for the form to sign)."""
    session = await session_for(conn, staff, session_id, "mandates", now=now)
    draft = await code_queries.select_draft(conn, session.citizen_id, draft_id)
    if draft is None or draft.session_id != session.session_id:
        raise Problem(404, _("There is no such prepared mandate in this session."), kind="desk-draft-unknown")
    return draft, await legal_text_of(conn, draft)


async def legal_text_of(conn: asyncpg.Connection, draft: MandateDraft) -> LegalText:
    """The consent text fixed in a draft, as the person is shown it before confirming."""
    text = await theme_queries.select_legal_text(conn, draft.legal_text_version, draft.legal_text_language)
    assert text is not None, "drafts reference a published consent text"
    return text
