"""The words for a session's scopes and for the identity documents an agent may check."""

from __future__ import annotations

from typing import Final

from backend.core.i18n import N_

SCOPE_LABELS: Final[dict[str, str]] = {
    "view_data": N_("View the person's data"),
    "mandates": N_("Help with mandates"),
    "contact": N_("Update e-mail address and language"),
    "error_report": N_("Report an error in a record"),
}
DOCUMENT_LABELS: Final[dict[str, str]] = {
    "be_eid": N_("Belgian identity card (eID)"),
    "be_residence_card": N_("Belgian residence card for foreigners"),
    "passport": N_("Passport"),
    "foreign_eid": N_("Identity card of another EU country"),
}
