-- The access log: every access to a person's data, append-only, partitioned by the month it was logged,
-- hash-chained per citizen with a gap-free sequence kept in a head table.

-- The role the web and worker processes run as (SET ROLE at connect). It may only add to and read the log.
-- Roles belong to the whole server: another database's migration may be creating it at this very moment (the
-- migration lock is per database), in which case this one waits for it and finds the name taken.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'vitrine_app') THEN
        CREATE ROLE vitrine_app NOLOGIN;
    END IF;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN
        NULL;
END
$$;

CREATE TABLE access_events (
    citizen_id uuid NOT NULL REFERENCES people (person_id),
    seq bigint NOT NULL CHECK (seq > 0),
    event_id uuid NOT NULL,
    occurred_at timestamptz NOT NULL,
    logged_at timestamptz NOT NULL DEFAULT now(),
    actor_kind text NOT NULL CHECK (actor_kind IN ('institution', 'helper', 'agent', 'staff', 'system')),
    actor_org_id uuid,
    actor_client_id text,
    actor_system text,
    actor_role text,
    -- A pseudonymous reference to the agent or staff member; reviewers reveal the person within a case.
    actor_ref text,
    mandate_id uuid,
    purpose_code text,
    legal_basis_ref text,
    categories text[] NOT NULL DEFAULT '{}',
    record_refs text[] NOT NULL DEFAULT '{}',
    case_ref text,
    channel text NOT NULL CHECK (channel IN ('web', 'api', 'desk', 'batch', 'reported')),
    action text NOT NULL CHECK (action IN ('read', 'change', 'check', 'export')),
    outcome text NOT NULL CHECK (outcome IN ('granted', 'denied', 'error')),
    reason text,
    -- For accesses an institution reports from its own systems: its identifiers, unique per citizen.
    source text,
    source_event_id text,
    prev_hash bytea NOT NULL CHECK (length(prev_hash) = 32),
    hash bytea NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (citizen_id, seq, logged_at),
    CHECK ((source IS NULL) = (source_event_id IS NULL)),
    CHECK (outcome = 'granted' OR reason IS NOT NULL)
) PARTITION BY RANGE (logged_at);

CREATE INDEX access_events_citizen_time ON access_events (citizen_id, occurred_at DESC, seq DESC);
CREATE INDEX access_events_event_id ON access_events (event_id);

-- One row per citizen: the end of their chain. Locked for each append, so sequence numbers have no gaps.
CREATE TABLE access_log_heads (
    citizen_id uuid PRIMARY KEY REFERENCES people (person_id),
    last_seq bigint NOT NULL CHECK (last_seq >= 0),
    last_hash bytea NOT NULL CHECK (length(last_hash) = 32),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Reported accesses are idempotent by (source, id): a repeat returns the first event.
CREATE TABLE reported_access_ids (
    citizen_id uuid NOT NULL REFERENCES people (person_id),
    source text NOT NULL,
    source_event_id text NOT NULL,
    event_id uuid NOT NULL,
    seq bigint NOT NULL,
    PRIMARY KEY (citizen_id, source, source_event_id)
);

CREATE FUNCTION vitrine_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the access log is append-only: % refused on %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER access_events_append_only BEFORE UPDATE OR DELETE ON access_events
    FOR EACH ROW EXECUTE FUNCTION vitrine_refuse_change();
CREATE TRIGGER access_events_no_truncate BEFORE TRUNCATE ON access_events
    FOR EACH STATEMENT EXECUTE FUNCTION vitrine_refuse_change();

-- Creates the partition for the month containing `day` (idempotent), with its own TRUNCATE guard since a
-- partition can be truncated directly. Called by the migration and by the worker's monthly cron.
-- SECURITY DEFINER: the application role may create next month's partition but not alter the table itself.
CREATE FUNCTION vitrine_create_access_partition(day date) RETURNS text LANGUAGE plpgsql
    SECURITY DEFINER SET search_path = public AS $$
DECLARE
    first_day date := date_trunc('month', day)::date;
    name text := format('access_events_%s', to_char(first_day, 'YYYY_MM'));
BEGIN
    IF to_regclass(name) IS NULL THEN
        EXECUTE format(
            'CREATE TABLE %I PARTITION OF access_events FOR VALUES FROM (%L) TO (%L)',
            name, first_day::timestamptz, (first_day + interval '1 month')::timestamptz
        );
        EXECUTE format(
            'CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION vitrine_refuse_change()',
            name || '_no_truncate', name
        );
        EXECUTE format('GRANT SELECT, INSERT ON %I TO vitrine_app', name);
    END IF;
    RETURN name;
END
$$;

SELECT vitrine_create_access_partition((now() + make_interval(months => m))::date)
FROM generate_series(-1, 3) AS m;

-- The application role: full use of ordinary tables, only INSERT and SELECT on the log.
GRANT USAGE ON SCHEMA public TO vitrine_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO vitrine_app;
REVOKE UPDATE, DELETE, TRUNCATE ON access_events FROM vitrine_app;
REVOKE DELETE, TRUNCATE ON access_log_heads, reported_access_ids FROM vitrine_app;
REVOKE UPDATE ON reported_access_ids FROM vitrine_app;
GRANT EXECUTE ON FUNCTION vitrine_create_access_partition(date) TO vitrine_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO vitrine_app;
