"""Who acts and for whom: the actor and subject every request resolves to.

A citizen reading their own data is both actor and subject. A helper acting for someone has a different
subject; so does an organisation's agent, a member of staff in an assisted session, and an institution.
Coarse guards read only this; the finer rights (mandates, purposes, desk sessions) are decided in services.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

import msgspec

from backend.core.identity.schemas import Membership, Person, StaffMember

ActorKind = Literal["person", "agent", "staff", "institution"]


class Actor(msgspec.Struct, frozen=True, kw_only=True):
    """Who performs an action; what an access-log row records as the accessor."""

    kind: ActorKind
    person_id: UUID | None = None
    org_id: UUID | None = None
    client_id: str | None = None
    session_id: UUID | None = None
    # What citizens see instead of an agent's or staff member's name.
    pseudonym: str | None = None


class SignedIn(msgspec.Struct, frozen=True, kw_only=True):
    """A signed-in person with their roles and the acting context chosen in this session."""

    person: Person
    session_id: UUID
    memberships: tuple[Membership, ...]
    staff: StaffMember | None
    acting_for: Person | None
    acting_org: UUID | None

    @property
    def subject_id(self) -> UUID:
        """Whose data this person is looking at now: their own, or the person they act for."""
        return self.acting_for.person_id if self.acting_for is not None else self.person.person_id

    @property
    def acting_for_someone(self) -> bool:
        """True while the person acts for someone else (the banner shows on every page)."""
        return self.acting_for is not None

    @property
    def is_agent(self) -> bool:
        """True for people who work for an organisation as agent or access manager."""
        return bool(self.memberships)

    def membership(self, org_id: UUID) -> Membership | None:
        """The person's membership of an organisation, if any."""
        return next((m for m in self.memberships if m.org_id == org_id), None)

    def has_staff_role(self, role: str) -> bool:
        """True for active staff holding role."""
        return self.staff is not None and role in self.staff.roles

    @property
    def actor(self) -> Actor:
        """The actor to record: an agent when acting as an organisation, otherwise the person."""
        if self.acting_org is not None:
            member = self.membership(self.acting_org)
            return Actor(
                kind="agent",
                person_id=self.person.person_id,
                org_id=self.acting_org,
                session_id=self.session_id,
                pseudonym=member.pseudonym if member else None,
            )
        return Actor(kind="person", person_id=self.person.person_id, session_id=self.session_id)
