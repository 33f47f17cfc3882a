"""The citizen's access log page: who looked at their data, why, and with which outcome.

The filters are a plain GET form, so the page works without JavaScript and every filtered view has its own
address (bookmarkable, shareable with a helper at the desk). Reading one's own log is not itself logged.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Final
from urllib.parse import urlencode
from uuid import UUID

import asyncpg
from litestar import Request, get
from litestar.di import NamedDependency
from litestar.response import Template

from backend.access_log.citizen_routes import own_log_subject
from backend.access_log.companions import log_companions
from backend.access_log.views import (
    ACTOR_FILTER_LABELS,
    ACTOR_FILTERS,
    CATEGORIES,
    OUTCOME_LABELS,
    OUTCOMES,
    LogFilters,
    capitalised,
    category_label,
    citizen_log_page,
)
from backend.core.auth.guards import requires_sign_in
from backend.core.digits import positive_int
from backend.core.errors import FieldError
from backend.core.i18n import _, current_language, gettext
from frontend.rendering import page

PAGE_PATH: Final = "/access-log"
PAGE_SIZE: Final = 50
# The query names of the filters, as the form sends them and as the "Older entries" link repeats them.
FILTER_NAMES: Final = ("institution", "category", "from", "to", "outcome", "actor")


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def parse_filters(values: dict[str, str]) -> tuple[LogFilters, list[FieldError]]:
    """Filters from the form's raw values. An empty select means "all"; a value no option offers (an edited
    address) is ignored; a date that cannot be read is reported so the person can correct it."""
    errors: list[FieldError] = []
    institution: UUID | None = None
    if values.get("institution"):
        try:
            institution = UUID(values["institution"])
        except ValueError:
            institution = None
    period: dict[str, date | None] = {}
    for name, message in (
        ("from", _("Enter the first day of the period as a date, for example 2026-03-31")),
        ("to", _("Enter the last day of the period as a date, for example 2026-03-31")),
    ):
        raw = values.get(name, "").strip()
        period[name] = _date(raw) if raw else None
        if raw and period[name] is None:
            errors.append(FieldError(field=f"filter-{name}", message=message, location="query"))
    start, end = period["from"], period["to"]
    if start is not None and end is not None and end < start:
        errors.append(
            FieldError(
                field="filter-to",
                message=_("The last day of the period must be the same as or after the first day"),
                location="query",
            )
        )
        end = None
    category = values.get("category")
    outcome = values.get("outcome")
    actor = values.get("actor")
    filters = LogFilters(
        institution=institution,
        category=next((code for code in CATEGORIES if code == category), None),
        period_from=start,
        period_to=end,
        outcome=next((code for code in OUTCOMES if code == outcome), None),
        actor=next((code for code in ACTOR_FILTERS if code == actor), None),
    )
    return filters, errors


def _cursor(value: str | None) -> int | None:
    return positive_int(value, below=2**63)


def _choice(value: str, label: str, current: str) -> dict[str, Any]:
    return {"value": value, "label": label, "selected": value == current}


@get(PAGE_PATH, name="access-log", guards=[requires_sign_in], include_in_schema=False)
async def access_log_page(request: Request[Any, Any, Any], read_conn: NamedDependency[asyncpg.Connection]) -> Template:
    """The person's own log, newest first, grouped by day, with filters, paging and downloads."""
    # Only reads of the person's own data: no transaction needed (backend.core.request_transaction).
    conn = read_conn
    user = own_log_subject(request)
    language = current_language()
    values = {name: request.query_params.get(name, "") for name in FILTER_NAMES}
    filters, errors = parse_filters(values)
    before = _cursor(request.query_params.get("before"))
    log = await citizen_log_page(
        conn, user.subject_id, language=language, filters=filters, before_seq=before, limit=PAGE_SIZE
    )
    companions = await log_companions(conn, user.subject_id, [entry.seq for entry in log.entries], language=language)
    kept = {name: value for name, value in values.items() if value}
    return page(
        request,
        "pages/access-log/index.html",
        log=log,
        contests=companions.contests,
        alerts_enabled=companions.alerts_enabled,
        pending_alerts=companions.pending_alerts,
        values=values,
        errors=[{"field_id": error.field, "message": error.message} for error in errors],
        # The first message per field, shown beside the field itself.
        field_errors={error.field: error.message for error in reversed(errors)},
        filtered=filters.active,
        paged=before is not None,
        institutions=[_choice("", _("All organisations"), values["institution"])]
        + [_choice(str(org_id), name, values["institution"]) for org_id, name in companions.organisations],
        categories=[_choice("", _("All data"), values["category"])]
        + [_choice(code, capitalised(category_label(code)), values["category"]) for code in CATEGORIES],
        outcomes=[_choice("", _("All outcomes"), values["outcome"])]
        + [_choice(code, gettext(OUTCOME_LABELS[code]), values["outcome"]) for code in OUTCOMES],
        actors=[_choice("", _("Everyone"), values["actor"])]
        + [_choice(code, gettext(ACTOR_FILTER_LABELS[code]), values["actor"]) for code in ACTOR_FILTERS],
        newest_url=f"{PAGE_PATH}?{urlencode(kept)}" if kept else PAGE_PATH,
        older_url=(
            None if log.next_before_seq is None else f"{PAGE_PATH}?{urlencode({**kept, 'before': log.next_before_seq})}"
        ),
    )


# Registered by the composition root (backend/app.py).
ROUTES: Final[list[Any]] = [access_log_page]

__all__ = ["ROUTES", "access_log_page", "parse_filters"]
