-- Outgoing notifications: subscriptions and their delivery outbox.

CREATE TABLE notification_subscriptions (
    id            bigserial   PRIMARY KEY,
    name          text        NOT NULL UNIQUE,
    url           text        NOT NULL,
    -- The HMAC secret, sealed with the server key (context `notification/<id>`).
    secret_sealed bytea       NOT NULL,
    format        text        NOT NULL DEFAULT 'generic' CHECK (format IN ('generic', 'slack')),
    events        text[]      NOT NULL CHECK (
                      cardinality(events) > 0
                      AND events <@ ARRAY['finding.appeared', 'gate.denied']::text[]),
    min_severity  text        NOT NULL DEFAULT 'high'
                      CHECK (min_severity IN ('unknown', 'low', 'medium', 'high', 'critical')),
    -- KEV findings notify whatever their severity.
    kev           boolean     NOT NULL DEFAULT true,
    -- Only this project's events (exact name); NULL: every project.
    project       text,
    enabled       boolean     NOT NULL DEFAULT true,
    created_by    bigint      REFERENCES api_tokens (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE notification_deliveries (
    id              bigserial   PRIMARY KEY,
    subscription_id bigint      NOT NULL REFERENCES notification_subscriptions (id) ON DELETE CASCADE,
    event           text        NOT NULL CHECK (event IN ('finding.appeared', 'gate.denied', 'test')),
    -- The event's id: the same in every subscription's delivery of one event.
    event_id        text        NOT NULL,
    -- The body to send, already in the subscription's format.
    payload         jsonb       NOT NULL,
    state           text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts        integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- A worker is sending it until then; past it, another may.
    leased_until    timestamptz,
    last_error      text,
    last_status     integer,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    CHECK ((state = 'delivered') = (delivered_at IS NOT NULL))
);

CREATE INDEX notification_deliveries_due ON notification_deliveries (next_attempt_at, id)
    WHERE state = 'pending';
CREATE INDEX notification_deliveries_subscription ON notification_deliveries (subscription_id, id);
CREATE INDEX notification_deliveries_state ON notification_deliveries (state, id);
