"""Events read together with the organisation that acted, outside a single citizen's log page.

Flags for reviewers, alerts for a citizen and the accesses a helper made themself select the event's columns
and the organisation's (prefixed `o_`) and turn each record into a `LogRow`, so `views.describe` can put any of
them in plain language.
"""

from __future__ import annotations

from typing import Any, Final

import asyncpg
import msgspec

from backend.access_log.schemas import EVENT_COLUMNS, AccessEvent
from backend.access_log.view_queries import LogRow
from backend.core.identity.schemas import Organisation

# An organisation's columns as the event readers select them (prefixed `o_`), in Organisation's field order.
ORGANISATION_FIELDS: Final = ("org_id", "kbo", "kind", "code", "name_nl", "name_fr", "name_de")


def log_row(record: asyncpg.Record | dict[str, Any]) -> LogRow:
    """A record of an event's columns and its organisation's (`o_org_id`, `o_kbo`, …) as a LogRow.

    The purpose is not joined: the event's own purpose code and legal basis reference explain it.
    """
    data = dict(record)
    organisation = None
    if data["o_org_id"] is not None:
        organisation = msgspec.convert({name: data["o_" + name] for name in ORGANISATION_FIELDS}, Organisation)
    return LogRow(
        event=msgspec.convert({name: data[name] for name in EVENT_COLUMNS}, AccessEvent),
        organisation=organisation,
        purpose=None,
    )


__all__ = ["ORGANISATION_FIELDS", "log_row"]
