-- "Report an error": a citizen tells the institution that declared a record about them that something in it is
-- wrong. Each report is a case for that institution (the record's producer), with an append-only history.
--
-- Status moves forward only: open -> answered -> closed (a report is closed only once answered). `status` is
-- the current state; record_error_report_events is the history, and the constraints below make the database keep
-- the two honest without a trigger, as access_contests does (0004): a report and its history step are written by
-- one statement, at whose end both foreign keys are checked.
CREATE TABLE record_error_reports (
    citizen_id uuid NOT NULL REFERENCES people (person_id),
    report_id uuid NOT NULL DEFAULT gen_random_uuid(),
    record_id uuid NOT NULL,
    category text NOT NULL CHECK (category ~ '^[a-z][a-z0-9_]{1,40}$'),
    -- The organisation that declared the record: whose case this is.
    source_institution uuid NOT NULL REFERENCES organisations (org_id),
    message text NOT NULL CHECK (length(message) BETWEEN 10 AND 2000),
    status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'answered', 'closed')),
    answer text CHECK (answer IS NULL OR length(answer) BETWEEN 1 AND 4000),
    created_at timestamptz NOT NULL DEFAULT now(),
    answered_at timestamptz,
    PRIMARY KEY (citizen_id, report_id),
    FOREIGN KEY (citizen_id, record_id) REFERENCES records (citizen_id, record_id),
    CHECK ((status IN ('answered', 'closed')) = (answer IS NOT NULL AND answered_at IS NOT NULL)),
    CHECK (answered_at IS NULL OR answered_at >= created_at)
);

-- One report waiting for an answer per record: a second one while it waits is refused (and points at the first).
CREATE UNIQUE INDEX record_error_reports_one_open ON record_error_reports (citizen_id, record_id)
    WHERE status = 'open';
-- The reports about a record, newest first (the record's badge), and the institution's queue, oldest first.
CREATE INDEX record_error_reports_by_record ON record_error_reports (citizen_id, record_id, created_at DESC);
CREATE INDEX record_error_reports_queue ON record_error_reports (source_institution, created_at)
    WHERE status = 'open';

-- The history of a report, append-only. A step names the status it leaves and the status it enters; each status
-- is entered at most once and left at most once, and only after it was entered, so the history is one path.
CREATE TABLE record_error_report_events (
    citizen_id uuid NOT NULL,
    report_id uuid NOT NULL,
    step integer NOT NULL CHECK (step > 0),
    kind text NOT NULL CHECK (kind IN ('opened', 'answered', 'closed')),
    status_left text,
    status_entered text NOT NULL,
    -- Who took the step: the citizen (opened) or the source institution (answered, closed).
    actor_person_id uuid REFERENCES people (person_id),
    actor_org_id uuid REFERENCES organisations (org_id),
    body text CHECK (body IS NULL OR length(body) BETWEEN 1 AND 4000),
    at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (citizen_id, report_id, step),
    FOREIGN KEY (citizen_id, report_id) REFERENCES record_error_reports (citizen_id, report_id),
    UNIQUE (citizen_id, report_id, status_entered),
    UNIQUE (citizen_id, report_id, status_left),
    FOREIGN KEY (citizen_id, report_id, status_left)
        REFERENCES record_error_report_events (citizen_id, report_id, status_entered),
    CHECK (num_nonnulls(actor_person_id, actor_org_id) = 1),
    CHECK (
        CASE kind
            WHEN 'opened' THEN status_left IS NULL AND status_entered = 'open' AND actor_person_id IS NOT NULL
                AND body IS NOT NULL
            WHEN 'answered' THEN status_left = 'open' AND status_entered = 'answered' AND actor_org_id IS NOT NULL
                AND body IS NOT NULL
            ELSE status_left = 'answered' AND status_entered = 'closed' AND actor_org_id IS NOT NULL
        END
    )
);

ALTER TABLE record_error_reports ADD CONSTRAINT record_error_reports_status_in_history
    FOREIGN KEY (citizen_id, report_id, status)
    REFERENCES record_error_report_events (citizen_id, report_id, status_entered);

CREATE FUNCTION vitrine_refuse_report_history_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the history of error reports is append-only: % refused on %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER record_error_report_events_append_only BEFORE UPDATE OR DELETE ON record_error_report_events
    FOR EACH ROW EXECUTE FUNCTION vitrine_refuse_report_history_change();
CREATE TRIGGER record_error_report_events_no_truncate BEFORE TRUNCATE ON record_error_report_events
    FOR EACH STATEMENT EXECUTE FUNCTION vitrine_refuse_report_history_change();

GRANT SELECT, INSERT, UPDATE, DELETE ON record_error_reports, record_error_report_events TO vitrine_app;
-- What the history and the cases must not allow: changing or removing a step, deleting a case.
REVOKE UPDATE, DELETE, TRUNCATE ON record_error_report_events FROM vitrine_app;
REVOKE DELETE, TRUNCATE ON record_error_reports FROM vitrine_app;
