-- CI webhook ingestion: webhook sources, the durable delivery queue, the
-- security audit of rejected deliveries, and normalised build records.

-- A configured sender: deliveries go to POST /webhooks/{provider}/{name}.
CREATE TABLE webhook_sources (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider      text        NOT NULL CHECK (provider IN ('github', 'gitlab')),
    name          text COLLATE "C" NOT NULL,
    -- GitHub: the HMAC secret, sealed with ChaCha20-Poly1305 (nonce || ciphertext).
    secret_sealed bytea,
    -- GitLab: SHA-256 of the X-Gitlab-Token value.
    token_hash    bytea,
    -- GitLab signed form (webhook-signature v1): the signing secret, sealed.
    signing_sealed bytea,
    -- Repositories (`owner/name`, lower case) this source may feed; NULL = all.
    repositories  text[],
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (provider, name),
    CHECK ((provider = 'github' AND secret_sealed IS NOT NULL)
        OR (provider = 'gitlab' AND token_hash IS NOT NULL))
);

-- Every delivery that passed verification, raw, and its place in the queue.
-- status: queued (waiting, or retrying at next_attempt_at), done, ignored
-- (recorded but feeds nothing), dead (failed for good; see last_error).
CREATE TABLE webhook_deliveries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id       bigint      NOT NULL REFERENCES webhook_sources (id) ON DELETE CASCADE,
    delivery_id     text        NOT NULL,
    event           text        NOT NULL,
    body            bytea       NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    remote_addr     text,
    status          text        NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'done', 'ignored', 'dead')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    -- How many times processing committed: exactly once means 1.
    processed_count integer     NOT NULL DEFAULT 0,
    processed_at    timestamptz,
    -- Replays of the same delivery id are idempotent.
    UNIQUE (source_id, delivery_id)
);
ALTER TABLE webhook_deliveries ALTER COLUMN body SET STORAGE EXTERNAL;
CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (next_attempt_at, id)
    WHERE status = 'queued';
CREATE INDEX webhook_deliveries_status ON webhook_deliveries (status, id);

-- Deliveries refused for authentication reasons. Nothing of the body is kept.
CREATE TABLE webhook_audit (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider    text        NOT NULL,
    source_name text        NOT NULL,
    source_id   bigint      REFERENCES webhook_sources (id) ON DELETE SET NULL,
    remote_addr text,
    reason      text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    -- Anyone can send failing deliveries: identical failures (same source,
    -- address and reason) within a minute are one row with a count, so the
    -- audit cannot be used to fill the database.
    minute      timestamptz NOT NULL DEFAULT date_trunc('minute', now()),
    occurrences integer     NOT NULL DEFAULT 1,
    last_seen   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX webhook_audit_minute
    ON webhook_audit (provider, source_name, coalesce(remote_addr, ''), reason, minute);

-- A CI pipeline run (GitHub workflow run, GitLab pipeline), one row per attempt.
CREATE TABLE ci_runs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider        text        NOT NULL,
    provider_run_id bigint      NOT NULL,
    run_attempt     integer     NOT NULL DEFAULT 1,
    source_id       bigint      REFERENCES webhook_sources (id) ON DELETE SET NULL,
    repository      text        NOT NULL,
    repository_url  text,
    project_id      bigint      REFERENCES projects (id) ON DELETE SET NULL,
    workflow_name   text,
    workflow_file   text,
    event           text,
    ref             text,
    head_sha        text,
    actor           text,
    -- queued, in_progress, completed (NULL while only jobs have been seen).
    status          text,
    conclusion      text,
    -- Order of status: 0 unknown, 1 queued, 2 in progress, 3 completed.
    -- An event never moves a run back to a lower rank.
    status_rank     smallint    NOT NULL DEFAULT 0,
    -- The provider's timestamp of the event that set the status.
    status_at       timestamptz,
    started_at      timestamptz,
    completed_at    timestamptz,
    url             text,
    -- hosted, self-hosted, or NULL until a job with a runner is seen.
    runner_kind     text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (provider, provider_run_id, run_attempt)
);
CREATE INDEX ci_runs_project ON ci_runs (project_id, id);
CREATE INDEX ci_runs_sha ON ci_runs (head_sha);
CREATE INDEX ci_runs_repository ON ci_runs (lower(repository), id);

CREATE TABLE ci_jobs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id          bigint      NOT NULL REFERENCES ci_runs (id) ON DELETE CASCADE,
    provider_job_id bigint      NOT NULL,
    name            text,
    stage           text,
    status          text,
    conclusion      text,
    status_rank     smallint    NOT NULL DEFAULT 0,
    status_at       timestamptz,
    started_at      timestamptz,
    completed_at    timestamptz,
    runner_name     text,
    runner_labels   text[]      NOT NULL DEFAULT '{}',
    runner_group    text,
    runner_kind     text CHECK (runner_kind IN ('hosted', 'self-hosted')),
    environment     text,
    url             text,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (run_id, provider_job_id)
);
