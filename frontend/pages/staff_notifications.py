"""Staff views of notifications: every template rendered in a chosen language, and the deliveries given up on.

Desk staff and reviewers may use both. Neither shows anyone's personal data: templates are rendered from made-up
sample values, and failed deliveries are listed by kind, channel, error and internal notice id.
"""

from __future__ import annotations

from typing import Any, Final

import asyncpg
from litestar import Request, get
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.response import Template

from backend.access_log.written_time import brussels_datetime
from backend.core.auth.guards import signed_in_user
from backend.core.i18n import LANGUAGES, Language, current_language, language_name, parse_language
from frontend.rendering import page
from notifications.channels.email import build_message
from notifications.operations import failed_deliveries, pipeline_counts
from notifications.preferences import kind_label
from notifications.rendering import sample_notices
from notifications.templates import current_email_template, current_template

TEMPLATES_PATH: Final = "/staff/notification-templates"
DELIVERIES_PATH: Final = "/staff/deliveries"
SAMPLE_LINK: Final = "https://vitrine.example/inbox/00000000-0000-4000-8000-000000000000"


def requires_desk_or_reviewer(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Desk support staff or data-protection reviewers."""
    user = signed_in_user(connection)
    if not (user.has_staff_role("support") or user.has_staff_role("reviewer")):
        raise PermissionDeniedException("Only desk staff and reviewers may use this.")


def _email_preview(language: Language) -> dict[str, Any]:
    message = build_message(
        to="someone@example.invalid",
        mail_from="Vitrine <no-reply@vitrine.example>",
        language=language,
        notification_url=SAMPLE_LINK,
        preferences_url="https://vitrine.example/inbox/preferences",
    )
    plain = message.get_body(("plain",))
    return {
        "version": current_email_template().version,
        "subject": str(message["Subject"]),
        "text": "" if plain is None else plain.get_content(),
    }


@get(TEMPLATES_PATH, name="staff-notification-templates", guards=[requires_desk_or_reviewer], include_in_schema=False)
async def notification_templates_page(request: Request[Any, Any, Any]) -> Template:
    """Every kind of message and each of its variants, rendered from sample values in the chosen language."""
    shown: Language = parse_language(request.query_params.get("language")) or current_language()
    previews = [
        {
            "kind": kind,
            "label": kind_label(kind),
            "variant": variant,
            "version": current_template(kind).version,
            "notice": notice,
        }
        for kind, variant, notice in sample_notices(shown)
    ]
    return page(
        request,
        "pages/staff/notification-templates.html",
        previews=previews,
        email=_email_preview(shown),
        shown=shown,
        language_choices=[
            {"value": language, "label": language_name(language), "selected": language == shown}
            for language in LANGUAGES
        ],
    )


@get(DELIVERIES_PATH, name="staff-deliveries", guards=[requires_desk_or_reviewer], include_in_schema=False)
async def deliveries_page(request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]) -> Template:
    """Deliveries given up on, newest first, and what waits where in the pipeline."""
    language = current_language()
    failed = await failed_deliveries(conn)
    return page(
        request,
        "pages/staff/deliveries.html",
        counts=await pipeline_counts(conn),
        failed=[
            {
                "delivery": delivery,
                "kind_label": kind_label(delivery.kind),
                "when": brussels_datetime(delivery.updated_at, language),
            }
            for delivery in failed
        ],
    )


# Registered by the composition root (backend/app.py).
ROUTES: Final[list[Any]] = [notification_templates_page, deliveries_page]

__all__ = ["ROUTES", "requires_desk_or_reviewer"]
