"""The one statement every signed-in request starts with: the live session, its person, roles and staff record.

The session row is still read on every request (so sign-out and revocation are felt at once); the person, their
memberships and their staff record come back in the same round trip instead of three more.
"""

from __future__ import annotations

from typing import Final
from uuid import UUID

import asyncpg
import msgspec

from backend.core.auth.sessions import SessionRow
from backend.core.identity.schemas import Membership, Person, StaffMember

_SELECT_SIGNED_IN: Final = """
    SELECT s.session_id, s.person_id, s.method, s.created_at, s.expires_at, s.revoked_at, s.acting_for,
           s.acting_org, p.given_name, p.family_name, p.birth_date, p.language, p.email, p.phone,
           (
               SELECT coalesce(
                   json_agg(
                       json_build_object(
                           'org_id', m.org_id, 'org_name_nl', o.name_nl, 'org_name_fr', o.name_fr,
                           'org_name_de', o.name_de, 'org_kind', o.kind, 'role', m.role, 'pseudonym', m.pseudonym
                       )
                       ORDER BY o.name_nl, m.role
                   ),
                   '[]'
               )
               FROM organisation_members AS m JOIN organisations AS o USING (org_id)
               WHERE m.person_id = s.person_id AND m.active
           )::text AS memberships,
           (
               SELECT json_build_object(
                   'person_id', st.person_id, 'office', st.office, 'roles', st.roles, 'pseudonym', st.pseudonym,
                   'org_id', st.org_id
               )
               FROM staff_members AS st WHERE st.person_id = s.person_id AND st.active
           )::text AS staff
    FROM sessions AS s JOIN people AS p ON p.person_id = s.person_id
    WHERE s.session_id = $1 AND s.person_id = $2 AND s.revoked_at IS NULL AND s.expires_at > now()
"""

_memberships = msgspec.json.Decoder(tuple[Membership, ...])
_staff = msgspec.json.Decoder(StaffMember)


class SignedInRows(msgspec.Struct, frozen=True, kw_only=True):
    """A live session with its person, their active memberships and their active staff record."""

    session: SessionRow
    person: Person
    memberships: tuple[Membership, ...]
    staff: StaffMember | None


async def select_signed_in(conn: asyncpg.Connection, session_id: UUID, person_id: UUID) -> SignedInRows | None:
    """The session if it is live and belongs to this person, with everything the acting context needs."""
    row = await conn.fetchrow(_SELECT_SIGNED_IN, session_id, person_id)
    if row is None:
        return None
    staff = row["staff"]
    return SignedInRows(
        session=SessionRow(
            session_id=row["session_id"],
            person_id=row["person_id"],
            method=row["method"],
            created_at=row["created_at"],
            expires_at=row["expires_at"],
            revoked_at=row["revoked_at"],
            acting_for=row["acting_for"],
            acting_org=row["acting_org"],
        ),
        person=Person(
            person_id=row["person_id"],
            given_name=row["given_name"],
            family_name=row["family_name"],
            birth_date=row["birth_date"],
            language=row["language"],
            email=row["email"],
            phone=row["phone"],
        ),
        # Sent as text and decoded straight into the Structs (no intermediate dicts).
        memberships=_memberships.decode(row["memberships"]),
        staff=None if staff is None else _staff.decode(staff),
    )
