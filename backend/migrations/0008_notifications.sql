-- Notifications: the outbox written by business transactions, the notices people receive (in-app inbox), one
-- delivery per channel with a status that only moves forward, preferences per kind and channel, quiet hours for
-- push, and the person statuses the flexi ceiling rule needs (pensioner, early retiree).
--
-- Persist, commit, then enqueue by id: a business transaction writes an outbox row (a unique deduplication key
-- per person makes a repeat a no-op); a relay, woken by NOTIFY at commit, turns waiting rows into a notice and
-- its deliveries, commits, and only then enqueues delivery jobs carrying ids. Redis holds nothing that cannot be
-- rebuilt from these tables.

CREATE TABLE notification_outbox (
    citizen_id uuid NOT NULL REFERENCES people (person_id),
    outbox_id uuid NOT NULL DEFAULT gen_random_uuid(),
    kind text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]{1,40}$'),
    dedup_key text NOT NULL CHECK (length(dedup_key) BETWEEN 1 AND 200),
    payload jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(payload) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now(),
    -- Set by the relay in the transaction that creates the notice; NULL while waiting.
    enqueued_at timestamptz,
    PRIMARY KEY (citizen_id, outbox_id),
    UNIQUE (citizen_id, dedup_key)
);
CREATE INDEX notification_outbox_waiting ON notification_outbox (created_at) WHERE enqueued_at IS NULL;

-- Wake the relay. NOTIFY is delivered when the inserting transaction commits (never for one rolled back), and
-- identical notifications of one transaction are folded into one, so a batch of 1,000 wakes the relay once.
CREATE FUNCTION vitrine_notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('vitrine_notification_outbox', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER notification_outbox_wake AFTER INSERT ON notification_outbox
    FOR EACH STATEMENT EXECUTE FUNCTION vitrine_notify_outbox();

-- A notice as the person reads it in the inbox: the text rendered from the template version in force, in the
-- person's language, kept as it was shown.
CREATE TABLE notifications (
    citizen_id uuid NOT NULL REFERENCES people (person_id),
    notification_id uuid NOT NULL DEFAULT gen_random_uuid(),
    outbox_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]{1,40}$'),
    template_version integer NOT NULL CHECK (template_version > 0),
    language text NOT NULL CHECK (language IN ('nl', 'fr', 'de', 'en')),
    subject text NOT NULL CHECK (length(subject) BETWEEN 1 AND 300),
    body text NOT NULL CHECK (length(body) BETWEEN 1 AND 5000),
    action_url text CHECK (action_url IS NULL OR action_url ~ '^/[^/\\]'),
    action_label text CHECK (action_label IS NULL OR length(action_label) BETWEEN 1 AND 200),
    critical boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    read_at timestamptz,
    archived_at timestamptz,
    PRIMARY KEY (citizen_id, notification_id),
    -- One notice per outbox row, whatever happens to the relay.
    UNIQUE (citizen_id, outbox_id),
    FOREIGN KEY (citizen_id, outbox_id) REFERENCES notification_outbox (citizen_id, outbox_id),
    CHECK ((action_url IS NULL) = (action_label IS NULL))
);
CREATE INDEX notifications_inbox ON notifications (citizen_id, created_at DESC) WHERE archived_at IS NULL;
CREATE INDEX notifications_unread ON notifications (citizen_id) WHERE read_at IS NULL AND archived_at IS NULL;

-- A notice read or archived stays so: the inbox never silently turns a message unread again.
CREATE FUNCTION vitrine_notification_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.citizen_id, NEW.notification_id, NEW.outbox_id, NEW.kind, NEW.template_version, NEW.language,
        NEW.subject, NEW.body, NEW.action_url, NEW.action_label, NEW.critical, NEW.created_at)
       IS DISTINCT FROM
       (OLD.citizen_id, OLD.notification_id, OLD.outbox_id, OLD.kind, OLD.template_version, OLD.language,
        OLD.subject, OLD.body, OLD.action_url, OLD.action_label, OLD.critical, OLD.created_at)
       OR (OLD.read_at IS NOT NULL AND NEW.read_at IS DISTINCT FROM OLD.read_at)
       OR (OLD.archived_at IS NOT NULL AND NEW.archived_at IS DISTINCT FROM OLD.archived_at)
    THEN
        RAISE EXCEPTION 'a notice only moves forward: its text is kept as shown, read and archived stay set'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER notifications_forward_only BEFORE UPDATE ON notifications
    FOR EACH ROW EXECUTE FUNCTION vitrine_notification_forward_only();

-- One delivery per notice and channel. Status moves forward only: pending -> sending -> sent | failed (pending
-- may fail at once, e.g. no address left). While 'sending', next_attempt_at is set when a retry is scheduled
-- and NULL while an attempt is under way; the sweeper re-enqueues what is stuck past a timeout.
CREATE TABLE deliveries (
    citizen_id uuid NOT NULL,
    notification_id uuid NOT NULL,
    channel text NOT NULL CHECK (channel IN ('inbox', 'email', 'push')),
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error text CHECK (last_error IS NULL OR length(last_error) <= 500),
    next_attempt_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (citizen_id, notification_id, channel),
    FOREIGN KEY (citizen_id, notification_id) REFERENCES notifications (citizen_id, notification_id),
    CHECK (status <> 'failed' OR last_error IS NOT NULL)
);
CREATE INDEX deliveries_unfinished ON deliveries (updated_at) WHERE status IN ('pending', 'sending');
CREATE INDEX deliveries_failed ON deliveries (updated_at DESC) WHERE status = 'failed';

CREATE FUNCTION vitrine_delivery_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rank_old integer := CASE OLD.status WHEN 'pending' THEN 0 WHEN 'sending' THEN 1 ELSE 2 END;
    rank_new integer := CASE NEW.status WHEN 'pending' THEN 0 WHEN 'sending' THEN 1 ELSE 2 END;
BEGIN
    IF (NEW.citizen_id, NEW.notification_id, NEW.channel, NEW.created_at)
           IS DISTINCT FROM (OLD.citizen_id, OLD.notification_id, OLD.channel, OLD.created_at)
       OR rank_new < rank_old
       OR (OLD.status IN ('sent', 'failed') AND NEW IS DISTINCT FROM OLD)
       OR NEW.attempts < OLD.attempts
    THEN
        RAISE EXCEPTION 'a delivery status only moves forward: % -> % refused', OLD.status, NEW.status
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER deliveries_forward_only BEFORE UPDATE ON deliveries
    FOR EACH ROW EXECUTE FUNCTION vitrine_delivery_forward_only();

-- A person's choice per kind and channel; no row means the default (every channel on). The inbox is not a
-- choice: every notice reaches it.
CREATE TABLE notification_preferences (
    citizen_id uuid NOT NULL REFERENCES people (person_id),
    kind text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]{1,40}$'),
    channel text NOT NULL CHECK (channel IN ('email', 'push')),
    enabled boolean NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (citizen_id, kind, channel)
);

-- Quiet hours for push (local Brussels time; a period may run past midnight, e.g. 22:00 to 07:00).
CREATE TABLE notification_settings (
    citizen_id uuid PRIMARY KEY REFERENCES people (person_id),
    quiet_from time,
    quiet_to time,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((quiet_from IS NULL) = (quiet_to IS NULL)),
    CHECK (quiet_from IS DISTINCT FROM quiet_to OR quiet_from IS NULL)
);

-- What the flexi ceiling rule must know about a person: pensioners have no ceiling; early retirees (below the
-- legal pension age, fewer than 45 career years) have a separate pension limit. No row: neither.
CREATE TABLE person_statuses (
    citizen_id uuid PRIMARY KEY REFERENCES people (person_id),
    pensioner boolean NOT NULL DEFAULT false,
    early_retiree boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The application role: notices and deliveries are never deleted (an archived notice is still kept), the outbox
-- is the record of what was owed. Default privileges (0003) would grant more, so revoke first.
REVOKE ALL ON notification_outbox, notifications, deliveries, notification_preferences, notification_settings,
    person_statuses FROM vitrine_app;
GRANT SELECT, INSERT, UPDATE ON notification_outbox, notifications, deliveries TO vitrine_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON notification_preferences, notification_settings, person_statuses
    TO vitrine_app;
