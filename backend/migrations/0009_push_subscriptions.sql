-- Web Push: the devices (browser push subscriptions) a person turned notifications on for, and which device
-- already received which notice, so that a retried delivery never shows a notice twice on one device.
--
-- An endpoint is a browser profile's push channel. It belongs to one person at a time: unique per person here,
-- and the registration takes it away from anyone else who held it (same transaction, under an advisory lock on
-- the endpoint), which keeps the constraints shard-local when the table is distributed by citizen_id.

CREATE TABLE push_subscriptions (
    citizen_id uuid NOT NULL REFERENCES people (person_id),
    subscription_id uuid NOT NULL DEFAULT gen_random_uuid(),
    -- https only in production; http is accepted by the application for loopback in development and tests.
    endpoint text NOT NULL CHECK (endpoint ~ '^https?://[^/]+/' AND length(endpoint) <= 2000),
    -- The browser's P-256 public key (65 bytes) and auth secret (16 bytes), base64url without padding.
    p256dh text NOT NULL CHECK (p256dh ~ '^[A-Za-z0-9_-]{87}$'),
    auth text NOT NULL CHECK (auth ~ '^[A-Za-z0-9_-]{22}$'),
    device_label text NOT NULL CHECK (length(device_label) BETWEEN 1 AND 100),
    created_at timestamptz NOT NULL DEFAULT now(),
    last_success_at timestamptz,
    -- Set when the push service says the subscription is gone (404/410) or another person took the endpoint.
    disabled_at timestamptz,
    disabled_reason text CHECK (disabled_reason IS NULL OR length(disabled_reason) <= 200),
    PRIMARY KEY (citizen_id, subscription_id),
    UNIQUE (citizen_id, endpoint),
    CHECK ((disabled_at IS NULL) = (disabled_reason IS NULL))
);
CREATE INDEX push_subscriptions_endpoint ON push_subscriptions (endpoint);
CREATE INDEX push_subscriptions_active ON push_subscriptions (citizen_id) WHERE disabled_at IS NULL;

-- One row per notice and device the push service accepted: the per-device "sent once" of a push delivery.
CREATE TABLE push_sends (
    citizen_id uuid NOT NULL,
    notification_id uuid NOT NULL,
    subscription_id uuid NOT NULL,
    sent_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (citizen_id, notification_id, subscription_id),
    FOREIGN KEY (citizen_id, notification_id) REFERENCES notifications (citizen_id, notification_id),
    FOREIGN KEY (citizen_id, subscription_id) REFERENCES push_subscriptions (citizen_id, subscription_id)
        ON DELETE CASCADE
);

REVOKE ALL ON push_subscriptions, push_sends FROM vitrine_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON push_subscriptions TO vitrine_app;
GRANT SELECT, INSERT ON push_sends TO vitrine_app;
