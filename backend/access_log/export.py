"""Exports of a citizen's whole log: CSV for spreadsheets, JSON to recompute the hash chain.

Both are produced page by page (keyset on seq, oldest first) and streamed, so a long log never sits in memory.
Each page borrows a connection only while it is read: a slow download does not hold one from the pool. The
export stops at the head as it was when the export began, so it is one consistent prefix of the chain even
while accesses are being added.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any, Final
from uuid import UUID

import msgspec

from backend.access_log import queries, view_queries
from backend.access_log.chain import CHAIN_VERSION, HASHED_FIELDS
from backend.access_log.schemas import AccessEvent
from backend.access_log.view_queries import LogRow
from backend.access_log.views import describe, speaking
from backend.core.db import ConnectionSource
from backend.core.i18n import N_, Language, gettext

PAGE_SIZE: Final = 500
# Spreadsheet programs (Excel above all) read a CSV as UTF-8 only when it starts with a byte-order mark.
UTF8_BOM: Final = "\ufeff".encode()
# A cell starting with one of these is run as a formula by spreadsheet programs; free text from institutions
# (a reason, a case reference) must not be able to do that on the citizen's computer.
_FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")

CSV_COLUMNS: Final[tuple[str, ...]] = (
    N_("Number"),
    N_("Date and time"),
    N_("Who"),
    N_("Reference"),
    N_("Data"),
    N_("Action"),
    N_("Purpose"),
    N_("Legal basis"),
    N_("Authorisation"),
    N_("Outcome"),
    N_("Reason"),
    N_("Channel"),
    N_("Case reference"),
    N_("Event id"),
    N_("Hash"),
)

_json = msgspec.json.Encoder()


async def _pages(source: ConnectionSource, citizen_id: UUID, page_size: int) -> AsyncIterator[list[LogRow]]:
    """The citizen's events in chain order, one page at a time, up to the head as it was at the start."""
    async with source() as conn:
        head = await queries.select_head(conn, citizen_id)
    if head is None:
        return
    last_seq = head[0]
    after = 0
    while after < last_seq:
        async with source() as conn:
            rows = await view_queries.select_export_rows(
                conn, citizen_id, after_seq=after, up_to_seq=last_seq, limit=page_size
            )
        if not rows:
            return
        yield rows
        after = rows[-1].event.seq


def _cell(value: str) -> str:
    """A text cell a spreadsheet shows as text (a leading apostrophe stops formulas)."""
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def _csv_text(rows: Sequence[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    # RFC 4180: CRLF line ends, fields with a comma, quote or line break in double quotes, quotes doubled.
    writer = csv.writer(buffer, dialect="excel", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerows(rows)
    return buffer.getvalue()


def _csv_row(row: LogRow, language: Language) -> list[Any]:
    entry = describe(row, language)
    why = entry.why
    texts = [
        entry.who.name,
        entry.who.reference or "",
        "; ".join(item.label for item in entry.what),
        entry.action_label,
        (why.purpose or why.purpose_code or "") if why else "",
        (why.legal_basis or "") if why else "",
        (why.authorisation_ref or "") if why else "",
        entry.outcome_label,
        entry.reason or "",
        entry.channel_label,
        entry.case_ref or "",
        str(entry.event_id),
        row.event.hash.hex(),
    ]
    return [entry.seq, entry.occurred_at.isoformat(timespec="seconds"), *(_cell(text) for text in texts)]


async def csv_export(
    source: ConnectionSource, citizen_id: UUID, *, language: Language, page_size: int = PAGE_SIZE
) -> AsyncIterator[bytes]:
    """The whole log as CSV in the person's language: BOM, a header row, then one row per access, oldest first.

    Times are Brussels times with their UTC offset (ISO 8601), so they sort and convert without ambiguity.
    """
    with speaking(language):
        header = [gettext(column) for column in CSV_COLUMNS]
    yield UTF8_BOM + _csv_text([header]).encode()
    async for rows in _pages(source, citizen_id, page_size):
        with speaking(language):
            lines = [_csv_row(row, language) for row in rows]
        yield _csv_text(lines).encode()


def _timestamp(value: datetime) -> str:
    """A timestamp in UTC with all six microsecond digits, so a verifier recovers the exact instant that the chain
    hashes (as whole microseconds since 1970-01-01 UTC, see chain.canonical_bytes)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_document(event: AccessEvent) -> dict[str, Any]:
    """One event for the JSON export: every hashed field in chain order, then the hashes in hex.

    Recomputing is: hash = SHA-256(prev_hash + JSON([chain_version, *hashed fields in this order])), with the
    JSON written compactly (no spaces), timestamps as whole microseconds since 1970-01-01 UTC, and the first
    prev_hash 32 zero bytes.
    """
    document: dict[str, Any] = {"chain_version": CHAIN_VERSION}
    for name in HASHED_FIELDS:
        value = getattr(event, name)
        if isinstance(value, datetime):
            value = _timestamp(value)
        elif isinstance(value, UUID):
            value = str(value)
        document[name] = value
    document["prev_hash"] = event.prev_hash.hex()
    document["hash"] = event.hash.hex()
    return document


async def json_export(
    source: ConnectionSource, citizen_id: UUID, *, page_size: int = PAGE_SIZE
) -> AsyncIterator[bytes]:
    """The whole log as a JSON array of events, oldest first, with hex hashes to recompute the chain."""
    yield b"["
    first = True
    async for rows in _pages(source, citizen_id, page_size):
        parts = []
        for row in rows:
            parts.append((b"\n" if first else b",\n") + _json.encode(event_document(row.event)))
            first = False
        yield b"".join(parts)
    yield b"\n]\n"
