-- Mandates: a citizen lets a helper (a person, or an organisation by KBO) see or act on some themes of their data,
-- from acceptance until a chosen end, ended at once by either side. Themes and consent texts are versioned and
-- immutable once published; the history of every mandate is append-only, enforced here and not only in Python.

-- Refuses a statement on an immutable or append-only table; TG_ARGV[0] says which rule was broken.
CREATE FUNCTION vitrine_refuse_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%: % refused on %', TG_ARGV[0], TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;

-- The exact consent text a citizen agrees to, per version and language. The hash is checked by the database, so
-- the hash a mandate stores always names the words that were shown.
CREATE TABLE mandate_legal_texts (
    version integer NOT NULL CHECK (version > 0),
    language text NOT NULL CHECK (language IN ('nl', 'fr', 'de', 'en')),
    text text NOT NULL CHECK (length(text) BETWEEN 100 AND 20000),
    sha256 char(64) NOT NULL,
    published_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (version, language),
    UNIQUE (version, language, sha256),
    CHECK (sha256 = encode(sha256(convert_to(text, 'UTF8')), 'hex'))
);
CREATE TRIGGER mandate_legal_texts_immutable BEFORE UPDATE OR DELETE ON mandate_legal_texts
    FOR EACH ROW EXECUTE FUNCTION vitrine_refuse_rewrite('consent texts are immutable');
CREATE TRIGGER mandate_legal_texts_no_truncate BEFORE TRUNCATE ON mandate_legal_texts
    FOR EACH STATEMENT EXECUTE FUNCTION vitrine_refuse_rewrite('consent texts are immutable');

-- What a theme covers: data categories a READ mandate may see, and named actions an ACT mandate may take. A
-- mandate points at one version, so publishing version 2 never widens what a citizen consented to.
CREATE TABLE mandate_theme_versions (
    code text NOT NULL CHECK (code ~ '^[a-z][a-z0-9_]{1,39}$'),
    version integer NOT NULL CHECK (version > 0),
    categories text[] NOT NULL DEFAULT '{}',
    actions text[] NOT NULL DEFAULT '{}',
    high_risk boolean NOT NULL DEFAULT false,
    name_nl text NOT NULL CHECK (length(name_nl) BETWEEN 1 AND 200),
    name_fr text NOT NULL CHECK (length(name_fr) BETWEEN 1 AND 200),
    name_de text NOT NULL CHECK (length(name_de) BETWEEN 1 AND 200),
    name_en text NOT NULL CHECK (length(name_en) BETWEEN 1 AND 200),
    description_nl text NOT NULL,
    description_fr text NOT NULL,
    description_de text NOT NULL,
    description_en text NOT NULL,
    -- NULL while a draft; a published version never changes again.
    published_at timestamptz,
    PRIMARY KEY (code, version),
    CHECK (cardinality(categories) + cardinality(actions) > 0)
);

CREATE FUNCTION vitrine_refuse_published_theme_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.published_at IS NOT NULL THEN
        RAISE EXCEPTION 'published mandate themes are immutable: % refused on % (%, version %)',
            TG_OP, TG_TABLE_NAME, OLD.code, OLD.version
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER mandate_theme_versions_published_immutable BEFORE UPDATE OR DELETE ON mandate_theme_versions
    FOR EACH ROW EXECUTE FUNCTION vitrine_refuse_published_theme_change();
CREATE TRIGGER mandate_theme_versions_no_truncate BEFORE TRUNCATE ON mandate_theme_versions
    FOR EACH STATEMENT EXECUTE FUNCTION vitrine_refuse_rewrite('published mandate themes are immutable');

-- A mandate. The state is never stored: mandate_state() derives it from the timestamps, and mandate_is_active()
-- is the one definition of "active" that every check uses.
CREATE TABLE mandates (
    citizen_id uuid NOT NULL REFERENCES people (person_id),
    mandate_id uuid NOT NULL DEFAULT gen_random_uuid(),
    mandatary_person_id uuid REFERENCES people (person_id),
    mandatary_org_id uuid REFERENCES organisations (org_id),
    duration text NOT NULL CHECK (duration IN ('1_day', '1_month', '6_months', '1_year', 'until_date')),
    until_date date,
    legal_text_version integer NOT NULL,
    legal_text_language text NOT NULL,
    legal_text_sha256 char(64) NOT NULL,
    created_at timestamptz NOT NULL,
    -- The offer (and its code) lapses if nobody answers in time.
    invitation_expires_at timestamptz NOT NULL,
    accepted_at timestamptz,
    accepted_by uuid REFERENCES people (person_id),
    declined_at timestamptz,
    declined_by uuid REFERENCES people (person_id),
    decline_reason text CHECK (length(decline_reason) <= 500),
    -- Set together at acceptance: the duration runs from the helper's acceptance, not from the invitation.
    starts_at timestamptz,
    ends_at timestamptz,
    -- Who ended it at once, and why (a cancelled invitation is a revocation by the citizen before acceptance).
    revoked_at timestamptz,
    revoked_by_side text CHECK (revoked_by_side IN ('citizen', 'mandatary')),
    revoked_by uuid REFERENCES people (person_id),
    revoke_reason text CHECK (length(revoke_reason) <= 500),
    -- Bookkeeping of the sweeper (its event is written once); the state does not depend on it.
    expired_at timestamptz,
    PRIMARY KEY (citizen_id, mandate_id),
    FOREIGN KEY (legal_text_version, legal_text_language, legal_text_sha256)
        REFERENCES mandate_legal_texts (version, language, sha256),
    CHECK ((mandatary_person_id IS NULL) <> (mandatary_org_id IS NULL)),
    CHECK (mandatary_person_id IS DISTINCT FROM citizen_id),
    CHECK ((duration = 'until_date') = (until_date IS NOT NULL)),
    CHECK (until_date IS NULL OR until_date <= (created_at AT TIME ZONE 'Europe/Brussels')::date + interval '3 years'),
    CHECK (invitation_expires_at > created_at),
    CHECK (accepted_at IS NULL OR declined_at IS NULL),
    CHECK ((accepted_at IS NULL) = (accepted_by IS NULL)),
    CHECK ((accepted_at IS NULL) = (starts_at IS NULL) AND (starts_at IS NULL) = (ends_at IS NULL)),
    CHECK ((declined_at IS NULL) = (declined_by IS NULL)),
    CHECK ((revoked_at IS NULL) = (revoked_by_side IS NULL)),
    CHECK (ends_at > starts_at),
    -- The hard maximum, whatever the application computes.
    CHECK ((ends_at AT TIME ZONE 'UTC') <= (starts_at AT TIME ZONE 'UTC') + interval '3 years')
);
-- Look-ups by mandate id alone (pages, API paths); not unique, so the table stays distributable by citizen_id.
CREATE INDEX mandates_by_id ON mandates (mandate_id);
CREATE INDEX mandates_by_person_mandatary ON mandates (mandatary_person_id, citizen_id)
    WHERE mandatary_person_id IS NOT NULL;
CREATE INDEX mandates_by_org_mandatary ON mandates (mandatary_org_id, citizen_id) WHERE mandatary_org_id IS NOT NULL;
CREATE INDEX mandates_to_sweep ON mandates (ends_at) WHERE revoked_at IS NULL AND expired_at IS NULL;
CREATE INDEX mandates_offers_to_sweep ON mandates (invitation_expires_at)
    WHERE accepted_at IS NULL AND declined_at IS NULL AND revoked_at IS NULL AND expired_at IS NULL;

-- A mandate only moves forward: what was agreed never changes, and an end once written stays written.
CREATE FUNCTION vitrine_mandate_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'mandates are never deleted: DELETE refused on %', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (NEW.citizen_id, NEW.mandate_id, NEW.mandatary_person_id, NEW.mandatary_org_id, NEW.duration, NEW.until_date,
        NEW.legal_text_version, NEW.legal_text_language, NEW.legal_text_sha256, NEW.created_at,
        NEW.invitation_expires_at)
       IS DISTINCT FROM
       (OLD.citizen_id, OLD.mandate_id, OLD.mandatary_person_id, OLD.mandatary_org_id, OLD.duration, OLD.until_date,
        OLD.legal_text_version, OLD.legal_text_language, OLD.legal_text_sha256, OLD.created_at,
        OLD.invitation_expires_at)
       OR (OLD.accepted_at IS NOT NULL AND (NEW.accepted_at, NEW.accepted_by, NEW.starts_at, NEW.ends_at)
           IS DISTINCT FROM (OLD.accepted_at, OLD.accepted_by, OLD.starts_at, OLD.ends_at))
       OR (OLD.declined_at IS NOT NULL AND (NEW.declined_at, NEW.declined_by, NEW.decline_reason)
           IS DISTINCT FROM (OLD.declined_at, OLD.declined_by, OLD.decline_reason))
       OR (OLD.revoked_at IS NOT NULL AND (NEW.revoked_at, NEW.revoked_by_side, NEW.revoked_by, NEW.revoke_reason)
           IS DISTINCT FROM (OLD.revoked_at, OLD.revoked_by_side, OLD.revoked_by, OLD.revoke_reason))
       OR (OLD.expired_at IS NOT NULL AND NEW.expired_at IS DISTINCT FROM OLD.expired_at)
    THEN
        RAISE EXCEPTION 'a mandate only moves forward: this UPDATE would rewrite what was agreed or ended'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER mandates_forward_only BEFORE UPDATE OR DELETE ON mandates
    FOR EACH ROW EXECUTE FUNCTION vitrine_mandate_forward_only();
CREATE TRIGGER mandates_no_truncate BEFORE TRUNCATE ON mandates
    FOR EACH STATEMENT EXECUTE FUNCTION vitrine_refuse_rewrite('mandates are never deleted');

-- The one definition of "active": accepted, not revoked, start <= at < end.
CREATE FUNCTION mandate_is_active(m mandates, at timestamptz) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        m.accepted_at <= at AND NOT coalesce(m.revoked_at <= at, false) AND m.starts_at <= at AND at < m.ends_at,
        false
    )
$$;

-- The first instant after the chosen end date, in Belgian time (a mandate "until 31 March" covers 31 March).
CREATE FUNCTION mandate_end_of_date(day date) RETURNS timestamptz LANGUAGE sql IMMUTABLE AS $$
    SELECT (day + 1)::timestamp AT TIME ZONE 'Europe/Brussels'
$$;

-- pending (offered, not yet answered; or accepted with a start still ahead), active, declined, revoked, expired
-- (its end has passed, or the offer lapsed unanswered).
CREATE FUNCTION mandate_state(m mandates, at timestamptz) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN mandate_is_active(m, at) THEN 'active'
        WHEN m.revoked_at <= at THEN 'revoked'
        WHEN m.declined_at <= at THEN 'declined'
        WHEN m.accepted_at <= at AND at >= m.ends_at THEN 'expired'
        WHEN m.accepted_at <= at THEN 'pending'
        WHEN at >= m.invitation_expires_at THEN 'expired'
        WHEN m.until_date IS NOT NULL AND at >= mandate_end_of_date(m.until_date) THEN 'expired'
        ELSE 'pending'
    END
$$;

-- When a mandate accepted at `starts` ends: calendar arithmetic in Belgian time, never past the hard maximum.
CREATE FUNCTION mandate_ends_at(duration text, until_date date, starts timestamptz) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE AS $$
    SELECT least(
        CASE duration
            WHEN '1_day' THEN ((starts AT TIME ZONE 'Europe/Brussels') + interval '1 day') AT TIME ZONE 'Europe/Brussels'
            WHEN '1_month' THEN
                ((starts AT TIME ZONE 'Europe/Brussels') + interval '1 month') AT TIME ZONE 'Europe/Brussels'
            WHEN '6_months' THEN
                ((starts AT TIME ZONE 'Europe/Brussels') + interval '6 months') AT TIME ZONE 'Europe/Brussels'
            WHEN '1_year' THEN
                ((starts AT TIME ZONE 'Europe/Brussels') + interval '1 year') AT TIME ZONE 'Europe/Brussels'
            WHEN 'until_date' THEN mandate_end_of_date(until_date)
        END,
        ((starts AT TIME ZONE 'UTC') + interval '3 years') AT TIME ZONE 'UTC'
    )
$$;

-- The themes of a mandate, each READ or ACT, each revocable on its own.
CREATE TABLE mandate_themes (
    citizen_id uuid NOT NULL,
    mandate_id uuid NOT NULL,
    theme_code text NOT NULL,
    theme_version integer NOT NULL,
    access text NOT NULL CHECK (access IN ('read', 'act')),
    revoked_at timestamptz,
    revoked_by_side text CHECK (revoked_by_side IN ('citizen', 'mandatary')),
    revoked_by uuid REFERENCES people (person_id),
    revoke_reason text CHECK (length(revoke_reason) <= 500),
    PRIMARY KEY (citizen_id, mandate_id, theme_code),
    FOREIGN KEY (citizen_id, mandate_id) REFERENCES mandates (citizen_id, mandate_id),
    FOREIGN KEY (theme_code, theme_version) REFERENCES mandate_theme_versions (code, version),
    CHECK ((revoked_at IS NULL) = (revoked_by_side IS NULL))
);

CREATE FUNCTION vitrine_mandate_theme_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'mandate themes are never deleted: DELETE refused on %', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (NEW.citizen_id, NEW.mandate_id, NEW.theme_code, NEW.theme_version, NEW.access)
           IS DISTINCT FROM (OLD.citizen_id, OLD.mandate_id, OLD.theme_code, OLD.theme_version, OLD.access)
       OR (OLD.revoked_at IS NOT NULL AND (NEW.revoked_at, NEW.revoked_by_side, NEW.revoked_by, NEW.revoke_reason)
           IS DISTINCT FROM (OLD.revoked_at, OLD.revoked_by_side, OLD.revoked_by, OLD.revoke_reason))
    THEN
        RAISE EXCEPTION 'a mandate theme only moves forward: this UPDATE would rewrite what was agreed or ended'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER mandate_themes_forward_only BEFORE UPDATE OR DELETE ON mandate_themes
    FOR EACH ROW EXECUTE FUNCTION vitrine_mandate_theme_forward_only();
CREATE TRIGGER mandate_themes_no_truncate BEFORE TRUNCATE ON mandate_themes
    FOR EACH STATEMENT EXECUTE FUNCTION vitrine_refuse_rewrite('mandate themes are never deleted');

-- The one definition of an active theme within a mandate.
CREATE FUNCTION mandate_theme_is_active(t mandate_themes, at timestamptz) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT NOT coalesce(t.revoked_at <= at, false)
$$;

-- The invitation code of a pending mandate: only its SHA-256 is kept. Used once (accepted or declined).
CREATE TABLE mandate_invitations (
    citizen_id uuid NOT NULL,
    mandate_id uuid NOT NULL,
    code_sha256 bytea NOT NULL CHECK (length(code_sha256) = 32),
    created_at timestamptz NOT NULL,
    used_at timestamptz,
    cancelled_at timestamptz,
    PRIMARY KEY (citizen_id, mandate_id),
    FOREIGN KEY (citizen_id, mandate_id) REFERENCES mandates (citizen_id, mandate_id),
    CHECK (used_at IS NULL OR cancelled_at IS NULL)
);
-- Not unique: a unique index without citizen_id could not be distributed; 27^12 codes make a clash negligible,
-- and a clash is refused like an unknown code.
CREATE INDEX mandate_invitations_by_code ON mandate_invitations (code_sha256);

-- Named agents of the mandatary organisation who may use one mandate...
CREATE TABLE mandate_agent_assignments (
    citizen_id uuid NOT NULL,
    mandate_id uuid NOT NULL,
    agent_person_id uuid NOT NULL REFERENCES people (person_id),
    org_id uuid NOT NULL REFERENCES organisations (org_id),
    assigned_by uuid NOT NULL REFERENCES people (person_id),
    assigned_at timestamptz NOT NULL,
    removed_at timestamptz,
    removed_by uuid REFERENCES people (person_id),
    PRIMARY KEY (citizen_id, mandate_id, agent_person_id),
    FOREIGN KEY (citizen_id, mandate_id) REFERENCES mandates (citizen_id, mandate_id),
    CHECK ((removed_at IS NULL) = (removed_by IS NULL))
);
CREATE INDEX mandate_agent_assignments_by_agent ON mandate_agent_assignments (agent_person_id) WHERE removed_at IS NULL;

-- ...or every mandate the organisation holds ("all clients"). Organisation-scoped, hence no citizen_id.
CREATE TABLE organisation_agent_assignments (
    org_id uuid NOT NULL REFERENCES organisations (org_id),
    agent_person_id uuid NOT NULL REFERENCES people (person_id),
    assigned_by uuid NOT NULL REFERENCES people (person_id),
    assigned_at timestamptz NOT NULL,
    removed_at timestamptz,
    removed_by uuid REFERENCES people (person_id),
    PRIMARY KEY (org_id, agent_person_id),
    CHECK ((removed_at IS NULL) = (removed_by IS NULL))
);

-- The history of every mandate, one named event per row; append-only for everyone, the owner included.
CREATE TABLE mandate_events (
    citizen_id uuid NOT NULL,
    event_id uuid NOT NULL DEFAULT gen_random_uuid(),
    mandate_id uuid NOT NULL,
    occurred_at timestamptz NOT NULL,
    -- Orders the events of one transaction, which share their occurred_at.
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    kind text NOT NULL CHECK (
        kind IN (
            'invited', 'invitation_cancelled', 'accepted', 'declined', 'revoked', 'theme_revoked', 'expired',
            'agent_assigned', 'agent_unassigned', 'expiry_reminded'
        )
    ),
    actor_side text NOT NULL CHECK (actor_side IN ('citizen', 'mandatary', 'system')),
    actor_person_id uuid REFERENCES people (person_id),
    actor_org_id uuid REFERENCES organisations (org_id),
    theme_code text,
    -- The pseudonym of an agent assigned or unassigned (citizens see pseudonyms, not names).
    agent_ref text,
    reason text CHECK (length(reason) <= 500),
    PRIMARY KEY (citizen_id, event_id),
    FOREIGN KEY (citizen_id, mandate_id) REFERENCES mandates (citizen_id, mandate_id)
);
CREATE INDEX mandate_events_timeline ON mandate_events (citizen_id, mandate_id, occurred_at);
CREATE TRIGGER mandate_events_append_only BEFORE UPDATE OR DELETE ON mandate_events
    FOR EACH ROW EXECUTE FUNCTION vitrine_refuse_rewrite('mandate history is append-only');
CREATE TRIGGER mandate_events_no_truncate BEFORE TRUNCATE ON mandate_events
    FOR EACH STATEMENT EXECUTE FUNCTION vitrine_refuse_rewrite('mandate history is append-only');

-- Expiry reminders already due, one row per side, so each is produced once.
CREATE TABLE mandate_reminders (
    citizen_id uuid NOT NULL,
    mandate_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('expiry_citizen', 'expiry_mandatary')),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (citizen_id, mandate_id, kind),
    FOREIGN KEY (citizen_id, mandate_id) REFERENCES mandates (citizen_id, mandate_id)
);

-- Version 1 of the consent text, in plain words, in the three official languages and English.
-- Version 1 counts as published since 1 January 2025, so that mandates dated earlier in tests and imports can
-- point at it.
INSERT INTO mandate_legal_texts (version, language, text, sha256, published_at)
SELECT 1, language, text, encode(sha256(convert_to(text, 'UTF8')), 'hex'), timestamptz '2025-01-01 00:00:00+00'
FROM (VALUES
('nl', $txt$Toestemming voor een volmacht in Vitrine (versie 1)

Ik geef deze volmacht aan de persoon of de organisatie die erin vermeld staat.

Wat zij mogen doen: alleen de thema's die ik gekozen heb, en per thema alleen wat ik gekozen heb: "inkijken" (mijn gegevens van dat thema lezen) of "handelen" (ook de handelingen van dat thema in mijn naam doen). Zij mogen niets anders met mijn gegevens doen.

Hoe lang: vanaf het moment dat zij de volmacht aanvaarden tot het einde dat ik gekozen heb. De volmacht wordt nooit stilzwijgend verlengd: om daarna verder te gaan, moet ik opnieuw toestemming geven.

Stoppen: ik kan de volmacht, of één thema ervan, op elk moment stopzetten in Vitrine. Ze stopt onmiddellijk; ik heb hun akkoord daarvoor niet nodig. Zij kunnen de volmacht ook op elk moment stopzetten.

Organisaties: als ik de volmacht aan een organisatie geef, mogen alleen de medewerkers die de organisatie daarvoor aanwijst ze gebruiken. Mijn logboek in Vitrine toont welke medewerker wat gedaan heeft.

Transparantie: telkens wanneer de volmacht gebruikt wordt om mijn gegevens in te kijken, en telkens wanneer iemand dat zonder recht probeert, wordt dat in mijn logboek geschreven, met de datum en wat er gebeurd is.

Mijn aanmelding blijft van mij: ik geef mijn aanmeldgegevens of codes nooit aan iemand anders. Een volmacht is de veilige manier om mij te laten helpen.

Ik bevestig dat ik deze tekst gelezen heb en dat ik deze volmacht uit vrije wil geef.$txt$),
('fr', $txt$Consentement à un mandat dans Vitrine (version 1)

Je donne ce mandat à la personne ou à l'organisation qui y est nommée.

Ce qu'elle peut faire : uniquement les thèmes que j'ai choisis, et pour chaque thème uniquement ce que j'ai choisi : « consulter » (lire mes données de ce thème) ou « agir » (faire aussi en mon nom les démarches de ce thème). Elle ne peut rien faire d'autre avec mes données.

Pour combien de temps : à partir du moment où elle accepte le mandat jusqu'à la fin que j'ai choisie. Le mandat n'est jamais prolongé sans que je le sache : pour continuer ensuite, je dois donner un nouveau consentement.

Y mettre fin : je peux mettre fin au mandat, ou à l'un de ses thèmes, à tout moment dans Vitrine. Il s'arrête immédiatement ; je n'ai pas besoin de son accord pour cela. Elle peut aussi y mettre fin à tout moment.

Organisations : si je donne le mandat à une organisation, seuls les membres du personnel qu'elle désigne pour cela peuvent l'utiliser. Mon journal dans Vitrine montre quel membre du personnel a fait quoi.

Transparence : chaque fois que le mandat est utilisé pour consulter mes données, et chaque fois que quelqu'un essaie de le faire sans en avoir le droit, c'est inscrit dans mon journal, avec la date et ce qui s'est passé.

Mon identification reste à moi : je ne donne jamais mes données de connexion ou mes codes à quelqu'un d'autre. Un mandat est la manière sûre de me faire aider.

Je confirme avoir lu ce texte et donner ce mandat librement.$txt$),
('de', $txt$Zustimmung zu einer Vollmacht in Vitrine (Version 1)

Ich erteile diese Vollmacht der Person oder der Organisation, die darin genannt ist.

Was sie tun darf: nur die Themen, die ich gewählt habe, und bei jedem Thema nur das, was ich gewählt habe: „einsehen“ (meine Daten zu diesem Thema lesen) oder „handeln“ (außerdem die Handlungen dieses Themas in meinem Namen vornehmen). Sonst darf sie nichts mit meinen Daten tun.

Wie lange: ab dem Moment, in dem sie die Vollmacht annimmt, bis zu dem Ende, das ich gewählt habe. Die Vollmacht wird nie stillschweigend verlängert: Um danach weiterzumachen, muss ich erneut zustimmen.

Beenden: Ich kann die Vollmacht oder eines ihrer Themen jederzeit in Vitrine beenden. Sie endet sofort; ich brauche dafür keine Zustimmung. Auch die andere Seite kann sie jederzeit beenden.

Organisationen: Wenn ich die Vollmacht einer Organisation erteile, dürfen sie nur die Mitarbeitenden nutzen, die die Organisation dafür benennt. Mein Protokoll in Vitrine zeigt, wer von ihnen was getan hat.

Transparenz: Jedes Mal, wenn die Vollmacht genutzt wird, um meine Daten einzusehen, und jedes Mal, wenn jemand das ohne Recht versucht, wird das in meinem Protokoll eingetragen, mit dem Datum und dem, was geschehen ist.

Meine Anmeldung bleibt meine: Ich gebe meine Anmeldedaten oder Codes niemals an andere weiter. Eine Vollmacht ist der sichere Weg, mir helfen zu lassen.

Ich bestätige, dass ich diesen Text gelesen habe und diese Vollmacht freiwillig erteile.$txt$),
('en', $txt$Consent to a mandate in Vitrine (version 1)

I give this mandate to the person or the organisation named in it.

What they may do: only the themes I chose, and for each theme only what I chose: "see" (read my data of that theme) or "act" (also take the actions of that theme in my name). They may not do anything else with my data.

For how long: from the moment they accept the mandate until the end I chose. The mandate is never extended without my knowing: to continue afterwards, I must give a new consent.

Ending it: I can end the mandate, or one of its themes, at any moment in Vitrine. It stops at once; I do not need their agreement for that. They can also end it at any moment.

Organisations: if I give the mandate to an organisation, only the staff members it names for this may use it. My log in Vitrine shows which staff member did what.

Transparency: every time the mandate is used to see my data, and every time someone tries to do so without the right, this is written in my log, with the date and what happened.

My sign-in stays mine: I never give my sign-in details or codes to anyone else. A mandate is the safe way to let someone help me.

I confirm that I have read this text and that I give this mandate freely.$txt$)
) AS seed (language, text);

-- Version 1 of the themes (published, like the consent text, as of 1 January 2025).
INSERT INTO mandate_theme_versions (
    code, version, categories, actions, high_risk,
    name_nl, name_fr, name_de, name_en, description_nl, description_fr, description_de, description_en, published_at
) VALUES
(
    'work_and_wages', 1, ARRAY['dimona', 'dmfa', 'flexi_wages'], ARRAY[]::text[], false,
    'Werk en loon', 'Travail et salaires', 'Arbeit und Lohn', 'Work and wages',
    'Uw aangiften van tewerkstelling (Dimona), uw lonen en arbeidstijd per kwartaal (DmfA) en uw flexi-jobloon.',
    'Vos déclarations d''emploi (Dimona), vos salaires et votre temps de travail par trimestre (DmfA) et vos salaires flexi-job.',
    'Ihre Beschäftigungsmeldungen (Dimona), Ihre Löhne und Arbeitszeiten pro Quartal (DmfA) und Ihr Flexi-Job-Lohn.',
    'Your employment declarations (Dimona), your quarterly wages and working time (DmfA) and your flexi-job wages.',
    timestamptz '2025-01-01 00:00:00+00'
),
(
    'benefits_and_risks', 1, ARRAY['drs'], ARRAY[]::text[], false,
    'Uitkeringen en sociale risico''s', 'Allocations et risques sociaux', 'Leistungen und soziale Risiken',
    'Benefits and social risks',
    'De aangiften van sociale risico''s (werkloosheid, ziekte of moederschap, arbeidsongeval) die uw werkgever doorstuurt naar wie uw uitkering betaalt.',
    'Les déclarations de risques sociaux (chômage, maladie ou maternité, accident du travail) que votre employeur envoie à l''organisme qui paie votre allocation.',
    'Die Meldungen sozialer Risiken (Arbeitslosigkeit, Krankheit oder Mutterschaft, Arbeitsunfall), die Ihr Arbeitgeber an die Stelle sendet, die Ihre Leistungen zahlt.',
    'The social-risk declarations (unemployment, sickness or maternity, accident at work) your employer sends to whoever pays your benefit.',
    timestamptz '2025-01-01 00:00:00+00'
),
(
    'posting', 1, ARRAY['limosa', 'a1'], ARRAY[]::text[], false,
    'Detachering', 'Détachement', 'Entsendung', 'Posting',
    'Uw werk in België voor een buitenlandse werkgever (Limosa) en uw detachering naar het buitenland (A1).',
    'Votre travail en Belgique pour un employeur étranger (Limosa) et votre détachement à l''étranger (A1).',
    'Ihre Arbeit in Belgien für einen ausländischen Arbeitgeber (Limosa) und Ihre Entsendung ins Ausland (A1).',
    'Your work in Belgium for a foreign employer (Limosa) and your posting abroad (A1).',
    timestamptz '2025-01-01 00:00:00+00'
),
(
    'messages', 1, ARRAY['notification_settings'], ARRAY['change_notification_settings'], false,
    'Meldingen', 'Notifications', 'Benachrichtigungen', 'Notifications',
    'Hoe en in welke taal Vitrine u verwittigt: inkijken, of ook voor u wijzigen.',
    'Comment et dans quelle langue Vitrine vous prévient : consulter, ou aussi modifier pour vous.',
    'Wie und in welcher Sprache Vitrine Sie benachrichtigt: einsehen oder auch für Sie ändern.',
    'How and in which language Vitrine notifies you: see, or also change for you.',
    timestamptz '2025-01-01 00:00:00+00'
),
(
    'corrections', 1, ARRAY[]::text[], ARRAY['report_error'], true,
    'Fouten melden', 'Signaler des erreurs', 'Fehler melden', 'Reporting errors',
    'In uw naam een fout in uw gegevens melden aan de instelling die ze bijhoudt. De instelling kan uw gegevens op basis daarvan verbeteren.',
    'Signaler en votre nom une erreur dans vos données à l''institution qui les gère. L''institution peut corriger vos données sur cette base.',
    'In Ihrem Namen einen Fehler in Ihren Daten an die Einrichtung melden, die sie führt. Die Einrichtung kann Ihre Daten daraufhin berichtigen.',
    'Report an error in your data, in your name, to the institution that keeps it. The institution may correct your data on that basis.',
    timestamptz '2025-01-01 00:00:00+00'
);

-- The application role: catalogues are read-only, the history may only grow, mandates are never deleted. Default
-- privileges (0003) would grant more, so everything is revoked first and granted back table by table.
REVOKE ALL ON mandate_legal_texts, mandate_theme_versions, mandates, mandate_themes, mandate_invitations,
    mandate_agent_assignments, organisation_agent_assignments, mandate_events, mandate_reminders FROM vitrine_app;
GRANT SELECT ON mandate_legal_texts, mandate_theme_versions TO vitrine_app;
GRANT SELECT, INSERT, UPDATE ON mandates, mandate_themes, mandate_invitations, mandate_agent_assignments,
    organisation_agent_assignments TO vitrine_app;
GRANT SELECT, INSERT ON mandate_events, mandate_reminders TO vitrine_app;
