"""The citizen's "My helpers": who may help them (active, waiting, ended), ending a mandate or one theme at once,
cancelling an invitation, and the printable receipt of a mandate.

Every change is a POST with the CSRF token that redirects back to the list (so a reload never repeats it);
ending asks for confirmation on a page of its own first. `ROUTES` also lists the grant flow
(frontend.pages.helpers_grant) and the joined timeline (frontend.pages.helpers_timeline).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final
from uuid import UUID

import asyncpg
import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from backend.access_log.receipt_routes import service_key_from_state
from backend.core.auth.guards import requires_sign_in, signed_in_user
from backend.core.i18n import N_, _, current_language
from consent import ending, service
from consent.parties import acting_for_self, mandate_of_party, no_such_mandate
from consent.receipts import receipt_for_party, verification_code
from consent.schemas import MandateOut
from consent.views import mandates_out
from frontend.pages import helpers_grant, helpers_timeline
from frontend.pages.mandate_display import day, grouped, mandate_view, moment
from frontend.rendering import page

HELPERS_PATH: Final = "/helpers"
REASON_MAX: Final = 500
_DONE: Final = {
    "ended": N_("The mandate has ended. It stopped at once."),
    "theme-ended": N_("The theme has ended. It stopped at once."),
    "cancelled": N_("The invitation is cancelled: its code no longer works."),
}


class EndForm(msgspec.Struct, kw_only=True):
    """The optional reason on an end confirmation page."""

    reason: str = ""


def _reason(form: EndForm) -> str | None:
    text = form.reason.strip()
    return text[:REASON_MAX] if text else None


@get(HELPERS_PATH, name="helpers", guards=[requires_sign_in], include_in_schema=False)
async def helpers_page(request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection]) -> Template:
    """The mandates you gave: active, waiting for an answer, ended (who ended it, why, when)."""
    user = acting_for_self(signed_in_user(request))
    mandates = await service.mandates_given(conn, user)
    done = _DONE.get(request.query_params.get("done", ""))
    return page(
        request,
        "pages/helpers/index.html",
        groups=grouped([mandate_view(m, "citizen") for m in mandates]),
        done=None if done is None else _(done),
    )


async def _own(conn: asyncpg.Connection, request: Request[Any, Any, Any], mandate_id: UUID) -> MandateOut:
    """A mandate the signed-in citizen gave, in the page's language; 404 for any other."""
    user = acting_for_self(signed_in_user(request))
    at = datetime.now(UTC)
    row, side = await mandate_of_party(conn, user, mandate_id, at)
    if side != "citizen":
        raise no_such_mandate()
    return (await mandates_out(conn, [row], current_language(), at))[0]


@get(f"{HELPERS_PATH}/{{mandate_id:uuid}}/end", name="helpers-end", guards=[requires_sign_in], include_in_schema=False)
async def end_confirm_page(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], mandate_id: FromPath[UUID]
) -> Template:
    """Are you sure? Ending takes effect at once."""
    mandate = await _own(conn, request, mandate_id)
    return page(
        request,
        "pages/helpers/end-confirm.html",
        mandate=mandate_view(mandate, "citizen"),
        name=mandate.mandatary.name,
        theme=None,
        action=f"{HELPERS_PATH}/{mandate_id}/end",
        back=HELPERS_PATH,
        reason_max=REASON_MAX,
    )


@post(
    f"{HELPERS_PATH}/{{mandate_id:uuid}}/end",
    name="helpers-end-post",
    guards=[requires_sign_in],
    include_in_schema=False,
    status_code=303,
)
async def end_mandate_page(
    request: Request[Any, Any, Any],
    conn: NamedDependency[asyncpg.Connection],
    mandate_id: FromPath[UUID],
    data: URLEncodedBody[EndForm],
) -> Response[Any]:
    """End the mandate now; the helper's very next request no longer acts for you."""
    await ending.end_mandate(conn, acting_for_self(signed_in_user(request)), mandate_id, reason=_reason(data))
    return Redirect(path=f"{HELPERS_PATH}?done=ended", status_code=303)


@get(
    f"{HELPERS_PATH}/{{mandate_id:uuid}}/themes/{{theme_code:str}}/end",
    name="helpers-theme-end",
    guards=[requires_sign_in],
    include_in_schema=False,
)
async def end_theme_confirm_page(
    request: Request[Any, Any, Any],
    conn: NamedDependency[asyncpg.Connection],
    mandate_id: FromPath[UUID],
    theme_code: FromPath[str],
) -> Template:
    """Are you sure? Ending one theme takes effect at once; the others stay."""
    mandate = await _own(conn, request, mandate_id)
    theme = next((t for t in mandate.themes if t.code == theme_code and t.active), None)
    if theme is None:
        raise no_such_mandate()
    return page(
        request,
        "pages/helpers/end-confirm.html",
        mandate=mandate_view(mandate, "citizen"),
        name=mandate.mandatary.name,
        theme=theme.name,
        action=f"{HELPERS_PATH}/{mandate_id}/themes/{theme_code}/end",
        back=HELPERS_PATH,
        reason_max=REASON_MAX,
    )


@post(
    f"{HELPERS_PATH}/{{mandate_id:uuid}}/themes/{{theme_code:str}}/end",
    name="helpers-theme-end-post",
    guards=[requires_sign_in],
    include_in_schema=False,
    status_code=303,
)
async def end_theme_page(
    request: Request[Any, Any, Any],
    conn: NamedDependency[asyncpg.Connection],
    mandate_id: FromPath[UUID],
    theme_code: FromPath[str],
    data: URLEncodedBody[EndForm],
) -> Response[Any]:
    """End one theme now (ending the last one ends the mandate)."""
    user = acting_for_self(signed_in_user(request))
    await ending.end_theme(conn, user, mandate_id, theme_code, reason=_reason(data))
    return Redirect(path=f"{HELPERS_PATH}?done=theme-ended", status_code=303)


@post(
    f"{HELPERS_PATH}/{{mandate_id:uuid}}/cancel",
    name="helpers-cancel",
    guards=[requires_sign_in],
    include_in_schema=False,
    status_code=303,
)
async def cancel_invitation_page(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], mandate_id: FromPath[UUID]
) -> Response[Any]:
    """Cancel an invitation nobody has answered: its code stops working."""
    await ending.cancel_invitation(conn, acting_for_self(signed_in_user(request)), mandate_id)
    return Redirect(path=f"{HELPERS_PATH}?done=cancelled", status_code=303)


@get(
    f"{HELPERS_PATH}/{{mandate_id:uuid}}/receipt",
    name="helpers-receipt",
    guards=[requires_sign_in],
    include_in_schema=False,
)
async def receipt_page(
    request: Request[Any, Any, Any], conn: NamedDependency[asyncpg.Connection], mandate_id: FromPath[UUID]
) -> Template:
    """The receipt of a mandate in plain words, to print, with the short code of its signed version."""
    user = signed_in_user(request)
    at = datetime.now(UTC)
    row, side = await mandate_of_party(conn, user, mandate_id, at)
    mandate = (await mandates_out(conn, [row], current_language(), at))[0]
    key = service_key_from_state(request.app.state)
    receipt, token = await receipt_for_party(conn, user, mandate_id, key, now=at)
    return page(
        request,
        "pages/helpers/receipt.html",
        mandate=mandate_view(mandate, "citizen" if side == "citizen" else "mandatary"),
        receipt=receipt,
        code=verification_code(token),
        offered=moment(receipt.offered_at),
        valid_from=moment(receipt.valid_from),
        valid_until=moment(receipt.valid_until),
        until_day=day(receipt.until_date),
        as_of=moment(receipt.as_of),
        jwt_url=f"/api/v1/mandates/{mandate_id}/receipt.jwt",
        back=HELPERS_PATH if side == "citizen" else "/helping",
    )


# Registered by the composition root (backend/app.py).
ROUTES: Final[list[Any]] = [
    helpers_page,
    end_confirm_page,
    end_mandate_page,
    end_theme_confirm_page,
    end_theme_page,
    cancel_invitation_page,
    receipt_page,
    *helpers_grant.ROUTES,
    *helpers_timeline.ROUTES,
]
