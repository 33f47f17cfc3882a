"""The schema stays ready to be distributed by `citizen_id` (Citus), as docs/scaling.md plans.

Every table built by the migrations is classified here as one of:

- distributed by `citizen_id`: the person's own rows. Its primary key and every unique constraint include
  `citizen_id` (so each can be enforced on one shard), and a foreign key to another such table carries
  `citizen_id` on both sides (so it stays inside one shard);
- reference: catalogues and the identity register, replicated to every node. They reference only other
  reference tables;
- coordinator-local: operational rows (sessions, rate limits, replay guards, migrations) that stay on the
  coordinator and reference only reference tables;
- distributed by another key, each with the key and the reason.

A new table fails `test_every_table_is_classified` until it is put in one of these lists with thought.
"""

from __future__ import annotations

from typing import Final

import asyncpg

DISTRIBUTION_COLUMN: Final = "citizen_id"

BY_CITIZEN: Final = frozenset(
    {
        "access_alert_preferences",
        "access_alerts",
        "access_contest_events",
        "access_contests",
        "access_event_flags",
        "access_events",
        "access_log_heads",
        "deliveries",
        "desk_mandate_drafts",
        "desk_presence_codes",
        "desk_session_actions",
        "desk_sessions",
        "flexi_counters",
        "mandate_agent_assignments",
        "mandate_events",
        "mandate_invitations",
        "mandate_reminders",
        "mandate_themes",
        "mandates",
        "notification_outbox",
        "notification_preferences",
        "notification_settings",
        "notifications",
        "person_statuses",
        "push_sends",
        "push_subscriptions",
        "record_error_report_events",
        "record_error_reports",
        "records",
        "reported_access_ids",
    }
)

# The identity register is read on almost every request by any node (INSZ to person, names, organisations, staff)
# and written rarely: replicated, it keeps every foreign key to a person valid on every shard.
REFERENCE: Final = frozenset(
    {
        "api_clients",
        "ingest_sources",
        "mandate_legal_texts",
        "mandate_theme_versions",
        "organisation_agent_assignments",
        "organisation_members",
        "organisations",
        "people",
        "person_identifiers",
        "purposes",
        "reference_data_version",
        "staff_members",
    }
)

COORDINATOR_LOCAL: Final = frozenset(
    {
        "oidc_login_attempts",
        "rate_limit_hits",
        "schema_migrations",
        "sessions",
        "used_assertions",
        "worker_heartbeats",
    }
)

# Distributed by another column: (distribution column, why).
BY_OTHER_KEY: Final = {
    "ingested_events": (
        "source_event_id",
        "idempotency is by source + id across all people (a repeat naming another subject is still a duplicate)",
    ),
}

# Foreign keys that cross distribution keys and are dropped when the schema is distributed, with the reason the
# rule they enforce still holds without them.
DROPPED_WHEN_DISTRIBUTED: Final = {
    ("ingested_events", "records"): "the ingest writes both rows in one transaction; the record is never deleted",
}


async def _tables(conn: asyncpg.Connection) -> set[str]:
    rows = await conn.fetch(
        """
        SELECT c.relname
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        """
    )
    return {row["relname"] for row in rows}


async def _key_constraints(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT c.relname AS table_name, k.conname, k.contype,
               ARRAY(SELECT a.attname FROM unnest(k.conkey) AS key(attnum)
                       JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = key.attnum) AS columns
          FROM pg_constraint k
          JOIN pg_class c ON c.oid = k.conrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND k.contype IN ('p', 'u') AND NOT c.relispartition
        """
    )


async def _foreign_keys(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT c.relname AS table_name, r.relname AS referenced, k.conname,
               ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY AS key(attnum, position)
                       JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = key.attnum
                      ORDER BY key.position) AS columns,
               ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY AS key(attnum, position)
                       JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = key.attnum
                      ORDER BY key.position) AS referenced_columns
          FROM pg_constraint k
          JOIN pg_class c ON c.oid = k.conrelid
          JOIN pg_class r ON r.oid = k.confrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND k.contype = 'f' AND NOT c.relispartition
        """
    )


def _kind_of(table: str) -> str:
    if table in BY_CITIZEN:
        return "citizen"
    if table in REFERENCE:
        return "reference"
    if table in COORDINATOR_LOCAL:
        return "local"
    return "other"


async def test_every_table_is_classified(conn: asyncpg.Connection) -> None:
    classified = BY_CITIZEN | REFERENCE | COORDINATOR_LOCAL | set(BY_OTHER_KEY)
    tables = await _tables(conn)
    assert not tables - classified, f"classify these tables for distribution: {sorted(tables - classified)}"
    assert not classified - tables, f"classified but no longer in the schema: {sorted(classified - tables)}"


async def test_citizen_tables_carry_citizen_id_not_null(conn: asyncpg.Connection) -> None:
    rows = await conn.fetch(
        """
        SELECT c.relname, a.attnotnull
          FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = $1 AND NOT a.attisdropped
         WHERE n.nspname = 'public' AND NOT c.relispartition
        """,
        DISTRIBUTION_COLUMN,
    )
    not_null = {row["relname"] for row in rows if row["attnotnull"]}
    assert not BY_CITIZEN - not_null, f"without a NOT NULL citizen_id: {sorted(BY_CITIZEN - not_null)}"


async def test_keys_include_the_distribution_column(conn: asyncpg.Connection) -> None:
    problems: list[str] = []
    for row in await _key_constraints(conn):
        table = row["table_name"]
        column = DISTRIBUTION_COLUMN if table in BY_CITIZEN else BY_OTHER_KEY.get(table, (None, ""))[0]
        if column is not None and column not in row["columns"]:
            problems.append(f"{table}.{row['conname']} {row['columns']} lacks {column}")
    assert not problems, "\n".join(problems)


async def test_foreign_keys_stay_within_a_shard_or_point_at_reference_tables(conn: asyncpg.Connection) -> None:
    problems: list[str] = []
    for row in await _foreign_keys(conn):
        source, target = _kind_of(row["table_name"]), _kind_of(row["referenced"])
        name = f"{row['table_name']}.{row['conname']} -> {row['referenced']}"
        if (row["table_name"], row["referenced"]) in DROPPED_WHEN_DISTRIBUTED or target == "reference":
            continue
        if source == target == "citizen":
            pairs = dict(zip(row["columns"], row["referenced_columns"], strict=True))
            if pairs.get(DISTRIBUTION_COLUMN) != DISTRIBUTION_COLUMN:
                problems.append(f"{name}: citizen_id must map to citizen_id")
        elif source == target == "other" and row["table_name"] == row["referenced"]:
            continue
        elif not (source == target == "local"):
            problems.append(f"{name}: a {source} table may not reference a {target} table")
    assert not problems, "\n".join(problems)


def test_the_exceptions_name_real_tables() -> None:
    for table, referenced in DROPPED_WHEN_DISTRIBUTED:
        assert table in BY_OTHER_KEY or table in BY_CITIZEN
        assert referenced in BY_CITIZEN or referenced in BY_OTHER_KEY
