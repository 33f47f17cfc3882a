-- Contesting an access in one step, anomaly flags on access events, and the citizen's opt-in alerts.

-- A citizen's question about one access ("I don't recognise this / why?"), handled by a reviewer. The event is
-- pinned by seq, id and hash, with a signed receipt of the citizen's log at the moment of asking, so that the
-- case still proves what was asked about if the log were ever rewritten. GDPR art. 12(3): an answer is due
-- within one month (`due_at`, computed in Brussels calendar months by the service).
--
-- Status moves forward only: open -> escalated -> answered -> closed (escalation may be skipped; a case is
-- closed only once answered). `status` is the current state; access_contest_events is the history, and the
-- constraints below make the database itself keep the two honest without a trigger.
CREATE TABLE access_contests (
    citizen_id uuid NOT NULL REFERENCES people (person_id),
    contest_id uuid NOT NULL DEFAULT gen_random_uuid(),
    seq bigint NOT NULL CHECK (seq > 0),
    event_id uuid NOT NULL,
    event_hash bytea NOT NULL CHECK (length(event_hash) = 32),
    receipt text NOT NULL CHECK (length(receipt) BETWEEN 1 AND 4096),
    -- The organisation that accessed (NULL for a private helper): whose reviewer the case is for.
    accessor_org_id uuid REFERENCES organisations (org_id),
    status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'escalated', 'answered', 'closed')),
    message text CHECK (message IS NULL OR length(message) BETWEEN 1 AND 2000),
    opened_at timestamptz NOT NULL,
    due_at timestamptz NOT NULL,
    escalation_reason text CHECK (escalation_reason IS NULL OR length(escalation_reason) BETWEEN 1 AND 2000),
    answer text CHECK (answer IS NULL OR length(answer) BETWEEN 1 AND 4000),
    answered_at timestamptz,
    closed_at timestamptz,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (citizen_id, contest_id),
    CHECK (due_at > opened_at),
    CHECK ((status IN ('answered', 'closed')) = (answer IS NOT NULL AND answered_at IS NOT NULL)),
    CHECK ((status = 'closed') = (closed_at IS NOT NULL)),
    CHECK (status <> 'escalated' OR escalation_reason IS NOT NULL)
);

-- One pending case (waiting for an answer) per event: a second "why?" while one is pending is refused.
CREATE UNIQUE INDEX access_contests_one_pending ON access_contests (citizen_id, seq)
    WHERE status IN ('open', 'escalated');
-- The reviewers' queue by deadline, and reviewers' links by case id.
CREATE INDEX access_contests_queue ON access_contests (due_at) WHERE status <> 'closed';
CREATE INDEX access_contests_contest_id ON access_contests (contest_id);
CREATE INDEX access_contests_citizen_seq ON access_contests (citizen_id, seq);

-- The case history, append-only. A status step names the status it leaves and the status it enters:
--   * each status is entered at most once and left at most once (the two UNIQUE constraints), so the
--     history is one path with no loops and no forks;
--   * a status can only be left once it has been entered (the self-referencing foreign key);
--   * each step is one of the allowed forward steps (the CHECK on kind);
-- and the case's current status must be one its history has entered (the foreign key on access_contests; a case
-- and its first step are therefore written by one statement, whose end is when both keys are checked).
-- Other entries (the citizen's message, a reviewer revealing the person behind a pseudonym) change no status.
CREATE TABLE access_contest_events (
    citizen_id uuid NOT NULL,
    contest_id uuid NOT NULL,
    step integer NOT NULL CHECK (step > 0),
    kind text NOT NULL CHECK (kind IN ('opened', 'escalated', 'answered', 'closed', 'message', 'revealed')),
    status_left text,
    status_entered text,
    -- Who took the step: the citizen (opened, message) or a reviewer.
    actor_person_id uuid NOT NULL REFERENCES people (person_id),
    body text CHECK (body IS NULL OR length(body) BETWEEN 1 AND 4000),
    -- For a reveal: the person behind the pseudonymous reference (their access log records the reveal).
    revealed_person_id uuid REFERENCES people (person_id),
    at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (citizen_id, contest_id, step),
    FOREIGN KEY (citizen_id, contest_id) REFERENCES access_contests (citizen_id, contest_id),
    UNIQUE (citizen_id, contest_id, status_entered),
    UNIQUE (citizen_id, contest_id, status_left),
    FOREIGN KEY (citizen_id, contest_id, status_left)
        REFERENCES access_contest_events (citizen_id, contest_id, status_entered),
    CHECK (
        CASE kind
            WHEN 'opened' THEN status_left IS NULL AND status_entered = 'open'
            WHEN 'escalated' THEN status_left = 'open' AND status_entered = 'escalated' AND body IS NOT NULL
            WHEN 'answered' THEN status_left IN ('open', 'escalated') AND status_entered = 'answered'
                AND body IS NOT NULL
            WHEN 'closed' THEN status_left = 'answered' AND status_entered = 'closed'
            WHEN 'message' THEN status_left IS NULL AND status_entered IS NULL AND body IS NOT NULL
            ELSE status_left IS NULL AND status_entered IS NULL AND revealed_person_id IS NOT NULL
        END
    )
);

ALTER TABLE access_contests ADD CONSTRAINT access_contests_status_in_history
    FOREIGN KEY (citizen_id, contest_id, status)
    REFERENCES access_contest_events (citizen_id, contest_id, status_entered);

-- Anomalies found on an access event, written in the same transaction as the event. The event's logged_at is
-- kept so that a join to access_events names its whole primary key (and so its partition).
CREATE TABLE access_event_flags (
    citizen_id uuid NOT NULL REFERENCES people (person_id),
    seq bigint NOT NULL CHECK (seq > 0),
    flag text NOT NULL CHECK (
        flag IN ('first_institution', 'outside_purpose', 'helper', 'burst', 'night')
    ),
    event_id uuid NOT NULL,
    logged_at timestamptz NOT NULL,
    occurred_at timestamptz NOT NULL,
    raised_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (citizen_id, seq, flag)
);
CREATE INDEX access_event_flags_by_flag ON access_event_flags (flag, raised_at DESC);
CREATE INDEX access_event_flags_recent ON access_event_flags (raised_at DESC);

-- A burst is many events by one pseudonymous person across citizens; the same index lists what a helper,
-- agent or staff member did themself.
CREATE INDEX access_events_actor_ref ON access_events (actor_ref, occurred_at) WHERE actor_ref IS NOT NULL;

-- The citizen's opt-in: tell me about a first access, an access outside its purpose, or one at night.
CREATE TABLE access_alert_preferences (
    citizen_id uuid PRIMARY KEY REFERENCES people (person_id),
    enabled boolean NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Alerts owed to a citizen who opted in: the durable record the notifications pipeline will pick up (it sets
-- delivered_at); until then the access log page shows the pending ones.
CREATE TABLE access_alerts (
    citizen_id uuid NOT NULL REFERENCES people (person_id),
    seq bigint NOT NULL CHECK (seq > 0),
    flag text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    PRIMARY KEY (citizen_id, seq, flag),
    FOREIGN KEY (citizen_id, seq, flag) REFERENCES access_event_flags (citizen_id, seq, flag)
);
CREATE INDEX access_alerts_pending ON access_alerts (citizen_id, created_at DESC) WHERE delivered_at IS NULL;

GRANT SELECT, INSERT, UPDATE ON access_contests TO vitrine_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON access_alert_preferences, access_alerts TO vitrine_app;
GRANT SELECT, INSERT ON access_contest_events, access_event_flags TO vitrine_app;
-- The default privileges of 0003 granted everything to tables created by this role: take back what the
-- history and the flags must not allow, and deleting a case.
REVOKE UPDATE, DELETE, TRUNCATE ON access_contest_events, access_event_flags FROM vitrine_app;
REVOKE DELETE, TRUNCATE ON access_contests FROM vitrine_app;
