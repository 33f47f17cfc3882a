-- Assisted digital: desk staff open a person's file only through an assisted session, which the person starts by
-- reading out a one-time presence code, or which the agent opens after checking an identity document in person.
-- Sessions are time-boxed and scoped; every action is listed here for the person and logged in their access log.

-- A presence code shown on the person's own phone (or letter): six digits, ten minutes, used once. Only a keyed
-- hash is kept (six digits are too few for a bare hash). A fresh code supersedes the ones before it.
CREATE TABLE desk_presence_codes (
    citizen_id uuid NOT NULL REFERENCES people (person_id),
    code_id uuid NOT NULL DEFAULT gen_random_uuid(),
    code_hmac bytea NOT NULL CHECK (length(code_hmac) = 32),
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    superseded_at timestamptz,
    PRIMARY KEY (citizen_id, code_id),
    CHECK (expires_at > created_at),
    CHECK (used_at IS NULL OR superseded_at IS NULL)
);
CREATE INDEX desk_presence_codes_live ON desk_presence_codes (citizen_id, expires_at)
    WHERE used_at IS NULL AND superseded_at IS NULL;

-- An assisted session: who (a staff member, by internal id and pseudonym), where, for whom, how the person's
-- presence was established, why, which scopes, and until when. Ended explicitly or on time-out; the time-out is
-- enforced by the next request (ended_at is then set to expires_at).
CREATE TABLE desk_sessions (
    citizen_id uuid NOT NULL REFERENCES people (person_id),
    session_id uuid NOT NULL DEFAULT gen_random_uuid(),
    agent_person_id uuid NOT NULL REFERENCES people (person_id),
    agent_ref text NOT NULL,
    office text NOT NULL,
    verification text NOT NULL CHECK (verification IN ('presence_code', 'identity_check')),
    document_type text CHECK (document_type IN ('be_eid', 'be_residence_card', 'passport', 'foreign_eid')),
    document_last4 text CHECK (document_last4 ~ '^[A-Z0-9]{4}$'),
    reason text NOT NULL CHECK (length(reason) BETWEEN 3 AND 300),
    scopes text[] NOT NULL CHECK (
        cardinality(scopes) >= 1 AND scopes <@ ARRAY['view_data', 'mandates', 'contact', 'error_report']::text[]
    ),
    opened_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    extended_at timestamptz,
    ended_at timestamptz,
    end_reason text CHECK (end_reason IN ('ended', 'expired')),
    PRIMARY KEY (citizen_id, session_id),
    CHECK (citizen_id <> agent_person_id),
    CHECK ((verification = 'identity_check') = (document_type IS NOT NULL AND document_last4 IS NOT NULL)),
    CHECK (expires_at > opened_at),
    -- 30 minutes, extended at most once by 30 more.
    CHECK (expires_at <= opened_at + interval '60 minutes'),
    CHECK ((ended_at IS NULL) = (end_reason IS NULL))
);
-- One open session per person: a second agent is refused by the database, whatever the application checked.
CREATE UNIQUE INDEX desk_sessions_one_open ON desk_sessions (citizen_id) WHERE ended_at IS NULL;
CREATE INDEX desk_sessions_by_id ON desk_sessions (session_id);
CREATE INDEX desk_sessions_by_agent ON desk_sessions (agent_person_id, opened_at DESC);
CREATE INDEX desk_sessions_by_time ON desk_sessions (opened_at DESC);

-- What happened in a session, in order, as the person sees it on their "help at a desk" page.
CREATE TABLE desk_session_actions (
    citizen_id uuid NOT NULL,
    session_id uuid NOT NULL,
    action_id uuid NOT NULL DEFAULT gen_random_uuid(),
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    kind text NOT NULL CHECK (
        kind IN (
            'opened', 'viewed', 'summary_printed', 'mandate_prepared', 'mandate_confirmed', 'contact_updated',
            'error_reported', 'extended', 'ended', 'expired', 'refused'
        )
    ),
    detail text CHECK (length(detail) <= 300),
    PRIMARY KEY (citizen_id, action_id),
    FOREIGN KEY (citizen_id, session_id) REFERENCES desk_sessions (citizen_id, session_id)
);
CREATE INDEX desk_session_actions_by_session ON desk_session_actions (citizen_id, session_id, recorded_at);
CREATE TRIGGER desk_session_actions_append_only BEFORE UPDATE OR DELETE ON desk_session_actions
    FOR EACH ROW EXECUTE FUNCTION vitrine_refuse_rewrite('desk session history is append-only');

-- A mandate prepared at the desk for the person. Nothing exists in `mandates` until the person confirms on a
-- channel of their own: a code sent to their inbox (and e-mail) entered on their own phone, or a printed form
-- signed at the desk and recorded by the agent with its reference. The consent text shown is fixed here.
CREATE TABLE desk_mandate_drafts (
    citizen_id uuid NOT NULL REFERENCES people (person_id),
    draft_id uuid NOT NULL DEFAULT gen_random_uuid(),
    session_id uuid NOT NULL,
    mandatary_person_id uuid REFERENCES people (person_id),
    mandatary_org_id uuid REFERENCES organisations (org_id),
    -- The helper as the person was told at the desk (a name, never a national number).
    mandatary_label text NOT NULL CHECK (length(mandatary_label) BETWEEN 1 AND 300),
    themes jsonb NOT NULL,
    duration text NOT NULL CHECK (duration IN ('1_day', '1_month', '6_months', '1_year')),
    legal_text_version integer NOT NULL,
    legal_text_language text NOT NULL,
    legal_text_sha256 char(64) NOT NULL,
    created_at timestamptz NOT NULL,
    code_hmac bytea NOT NULL CHECK (length(code_hmac) = 32),
    code_expires_at timestamptz NOT NULL,
    confirmed_at timestamptz,
    confirmed_via text CHECK (confirmed_via IN ('own_phone', 'signed_form')),
    form_reference text CHECK (length(form_reference) BETWEEN 3 AND 40),
    mandate_id uuid,
    PRIMARY KEY (citizen_id, draft_id),
    FOREIGN KEY (citizen_id, session_id) REFERENCES desk_sessions (citizen_id, session_id),
    FOREIGN KEY (citizen_id, mandate_id) REFERENCES mandates (citizen_id, mandate_id),
    CHECK ((mandatary_person_id IS NULL) <> (mandatary_org_id IS NULL)),
    CHECK ((confirmed_at IS NULL) = (confirmed_via IS NULL) AND (confirmed_at IS NULL) = (mandate_id IS NULL)),
    CHECK ((confirmed_via = 'signed_form') = (form_reference IS NOT NULL))
);
CREATE INDEX desk_mandate_drafts_by_session ON desk_mandate_drafts (citizen_id, session_id);
