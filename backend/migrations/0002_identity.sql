-- Identity: people and their identifier history, organisations and their members, staff, sessions,
-- institution API clients with their keys, single-use assertion ids, purposes, and rate-limit counters.

-- A natural person. The internal id is what every other table and every URL uses; the national number lives
-- in person_identifiers because it is personal and it can change.
CREATE TABLE people (
    person_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    given_name text NOT NULL CHECK (length(given_name) BETWEEN 1 AND 200),
    family_name text NOT NULL CHECK (length(family_name) BETWEEN 1 AND 200),
    birth_date date,
    language text NOT NULL DEFAULT 'nl' CHECK (language IN ('nl', 'fr', 'de', 'en')),
    email text CHECK (email IS NULL OR (length(email) <= 254 AND email LIKE '%_@_%')),
    phone text CHECK (phone IS NULL OR phone ~ '^\+[0-9]{8,15}$'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Every INSZ/BIS number a person has had. At most one current number per person, and a number belongs to one
-- person only (ONSS relinks data when a number changes; the old number keeps pointing at the same person).
CREATE TABLE person_identifiers (
    person_id uuid NOT NULL REFERENCES people (person_id),
    insz char(11) NOT NULL CHECK (insz ~ '^[0-9]{11}$'),
    kind text NOT NULL CHECK (kind IN ('insz', 'bis')),
    valid_from timestamptz NOT NULL DEFAULT now(),
    valid_to timestamptz,
    PRIMARY KEY (person_id, insz),
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE UNIQUE INDEX person_identifiers_insz_key ON person_identifiers (insz);
CREATE UNIQUE INDEX person_identifiers_one_current ON person_identifiers (person_id) WHERE valid_to IS NULL;

-- Organisations by KBO/BCE enterprise number: institutions, CPAS/OCMW, unions, social secretariats, accountants.
CREATE TABLE organisations (
    org_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kbo char(10) NOT NULL UNIQUE CHECK (kbo ~ '^[01][0-9]{9}$'),
    kind text NOT NULL CHECK (
        kind IN ('institution', 'cpas', 'union', 'social_secretariat', 'accountant', 'other')
    ),
    -- Short code for institutions (ONSS, ONEM, ...); NULL for other organisations.
    code text UNIQUE CHECK (code IS NULL OR code ~ '^[A-Z][A-Z0-9_]{1,31}$'),
    name_nl text NOT NULL,
    name_fr text NOT NULL,
    name_de text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Who works for an organisation: access managers assign work; agents act for clients under the organisation's
-- mandates. A pseudonymous reference is what citizens see in their access log.
CREATE TABLE organisation_members (
    org_id uuid NOT NULL REFERENCES organisations (org_id),
    person_id uuid NOT NULL REFERENCES people (person_id),
    role text NOT NULL CHECK (role IN ('access_manager', 'agent')),
    pseudonym text NOT NULL,
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, person_id, role)
);
CREATE INDEX organisation_members_person ON organisation_members (person_id) WHERE active;

-- Vitrine's own staff: desk support, data-protection reviewers, administrators.
CREATE TABLE staff_members (
    person_id uuid PRIMARY KEY REFERENCES people (person_id),
    office text NOT NULL CHECK (length(office) BETWEEN 1 AND 200),
    roles text[] NOT NULL CHECK (roles <@ ARRAY['support', 'reviewer', 'admin']::text[] AND cardinality(roles) > 0),
    pseudonym text NOT NULL UNIQUE,
    org_id uuid REFERENCES organisations (org_id),
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- A signed-in browser. The cookie carries a short-lived JWT naming the session; this row makes sign-out and
-- revocation take effect on the very next request.
CREATE TABLE sessions (
    session_id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    person_id uuid NOT NULL REFERENCES people (person_id),
    method text NOT NULL CHECK (method IN ('oidc', 'demo')),
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    revoked_reason text CHECK (revoked_reason IS NULL OR revoked_reason IN ('signed_out', 'revoked', 'replaced')),
    -- The acting context chosen by the person: for themself (both NULL), for a client, or as an organisation.
    acting_for uuid REFERENCES people (person_id),
    acting_org uuid REFERENCES organisations (org_id),
    CHECK (expires_at > created_at)
);
CREATE INDEX sessions_person_active ON sessions (person_id) WHERE revoked_at IS NULL;

-- One OpenID Connect sign-in in progress: state, nonce and PKCE verifier, used once.
CREATE TABLE oidc_login_attempts (
    state text PRIMARY KEY,
    nonce text NOT NULL,
    code_verifier text NOT NULL,
    next_path text NOT NULL DEFAULT '/',
    created_at timestamptz NOT NULL DEFAULT now(),
    used_at timestamptz
);

-- Institutions' API clients and their public keys (a JWKS); private keys never reach Vitrine.
CREATE TABLE api_clients (
    client_id text PRIMARY KEY CHECK (client_id ~ '^[a-z0-9][a-z0-9._-]{2,63}$'),
    org_id uuid NOT NULL REFERENCES organisations (org_id),
    jwks jsonb NOT NULL,
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Assertion ids already used: a replay within the assertion's lifetime is refused by the primary key.
CREATE TABLE used_assertions (
    client_id text NOT NULL REFERENCES api_clients (client_id),
    jti text NOT NULL CHECK (length(jti) BETWEEN 8 AND 200),
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE INDEX used_assertions_expiry ON used_assertions (expires_at);

-- Why an institution may read data: (institution, purpose) decides which categories, on which legal basis.
CREATE TABLE purposes (
    org_id uuid NOT NULL REFERENCES organisations (org_id),
    code text NOT NULL CHECK (code ~ '^[a-z][a-z0-9_]{1,63}$'),
    categories text[] NOT NULL,
    legal_basis_nl text NOT NULL,
    legal_basis_fr text NOT NULL,
    legal_basis_de text NOT NULL,
    legal_basis_en text NOT NULL,
    authorisation_ref text NOT NULL,
    active boolean NOT NULL DEFAULT true,
    PRIMARY KEY (org_id, code)
);

-- Fixed-window counters for sign-in and code entry, per client address and per account.
CREATE TABLE rate_limit_hits (
    bucket text NOT NULL,
    window_start timestamptz NOT NULL,
    hits integer NOT NULL CHECK (hits > 0),
    PRIMARY KEY (bucket, window_start)
);
CREATE INDEX rate_limit_hits_window ON rate_limit_hits (window_start);
