-- What is held about people: every declaration of every category in one table (the payload is JSONB, validated
-- by the category's msgspec Struct before it is stored, so a new category needs no migration), the idempotency
-- index of ingested CloudEvents, which institution owns which event source, and the flexi counter kept at ingest.

-- One row per accepted event. A correction is a new row that supersedes the one it corrects (which becomes
-- 'corrected'); a cancellation is a row without payload that supersedes the cancelled one (both 'cancelled').
CREATE TABLE records (
    citizen_id uuid NOT NULL REFERENCES people (person_id),
    record_id uuid NOT NULL DEFAULT gen_random_uuid(),
    category text NOT NULL CHECK (category ~ '^[a-z][a-z0-9_]{1,40}$'),
    type_version integer NOT NULL CHECK (type_version > 0),
    kind text NOT NULL CHECK (kind IN ('declaration', 'correction', 'cancellation')),
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'corrected', 'cancelled')),
    -- The institution that sent it, and the CloudEvents source and id it sent it under.
    producer_org_id uuid NOT NULL REFERENCES organisations (org_id),
    source text NOT NULL CHECK (length(source) BETWEEN 1 AND 500),
    source_event_id text NOT NULL CHECK (length(source_event_id) BETWEEN 1 AND 200),
    -- The event's `time` (when the declaration was made) and the period the record is about, if any.
    occurred_at timestamptz NOT NULL,
    valid_from date,
    valid_to date,
    payload jsonb,
    supersedes uuid,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (citizen_id, record_id),
    UNIQUE (citizen_id, source, source_event_id),
    FOREIGN KEY (citizen_id, supersedes) REFERENCES records (citizen_id, record_id),
    CHECK ((kind = 'cancellation') = (payload IS NULL)),
    CHECK ((kind = 'declaration') = (supersedes IS NULL)),
    CHECK (kind <> 'cancellation' OR status = 'cancelled'),
    CHECK (valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from)
);
CREATE INDEX records_citizen_category ON records (citizen_id, category, valid_from);
-- A record is corrected or cancelled once: a second successor would fork its history.
CREATE UNIQUE INDEX records_one_successor ON records (citizen_id, supersedes) WHERE supersedes IS NOT NULL;

-- Idempotency is by (source, id) across all citizens (the AMeD rule): a repeated event answers the record it
-- became the first time, and corrections find their original here. This is a lookup keyed by the event, not a
-- citizen-scoped table: under Citus it is distributed by `source` on its own (the foreign key to records is then
-- dropped, since the two tables are distributed by different columns).
CREATE TABLE ingested_events (
    source text NOT NULL,
    source_event_id text NOT NULL,
    citizen_id uuid NOT NULL REFERENCES people (person_id),
    record_id uuid NOT NULL,
    PRIMARY KEY (source, source_event_id),
    FOREIGN KEY (citizen_id, record_id) REFERENCES records (citizen_id, record_id)
);

-- The institution that first used an event source owns it: another institution sending under the same source
-- could otherwise make the owner's events look like duplicates, or correct them.
CREATE TABLE ingest_sources (
    source text PRIMARY KEY CHECK (length(source) BETWEEN 1 AND 500),
    org_id uuid NOT NULL REFERENCES organisations (org_id),
    first_seen_at timestamptz NOT NULL DEFAULT now()
);

-- A person's flexi income per income year, all employers together, corrections and cancellations applied;
-- recomputed from the active flexi_wages records in the same transaction as the ingest that changes them.
CREATE TABLE flexi_counters (
    citizen_id uuid NOT NULL REFERENCES people (person_id),
    income_year integer NOT NULL CHECK (income_year BETWEEN 1900 AND 9999),
    total_cents bigint NOT NULL CHECK (total_cents >= 0),
    last_declared_month text CHECK (last_declared_month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    -- The time of the latest declaration (including corrections and cancellations) for that year.
    as_of timestamptz NOT NULL,
    PRIMARY KEY (citizen_id, income_year)
);

GRANT SELECT, INSERT, UPDATE, DELETE ON records, ingested_events, ingest_sources, flexi_counters TO vitrine_app;
