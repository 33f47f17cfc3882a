"""Which contested accesses a reviewer handles.

A case is for the reviewer of the organisation whose access is contested: a reviewer who works for an
organisation (their staff record names it) sees, answers and escalates the cases about that organisation's
accesses and the flags on them, nothing else. Vitrine's own data-protection office, a reviewer who works for no
organisation, handles every case: those about helpers and Vitrine's desk agents (no organisation accessed),
the escalated ones, and oversight of all the others.
"""

from __future__ import annotations

from uuid import UUID

from backend.core.identity.schemas import StaffMember


def reviewed_organisation(reviewer: StaffMember) -> UUID | None:
    """The organisation whose cases the reviewer handles; None for Vitrine's data-protection office (every case)."""
    return reviewer.org_id


def handles(reviewer: StaffMember, accessor_org_id: UUID | None) -> bool:
    """Whether the reviewer handles a case about an access by this organisation (None: no organisation)."""
    return reviewer.org_id is None or reviewer.org_id == accessor_org_id


__all__ = ["handles", "reviewed_organisation"]
