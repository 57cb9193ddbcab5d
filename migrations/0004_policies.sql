-- Policy engine: versioned policy sets, waivers, the durable evaluation
-- queue, and evaluation history with a cheap "latest per artifact" index.

-- Free-form project tags (policy scopes can select projects by tag).
CREATE TABLE project_tags (
    project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    tag        text COLLATE "C" NOT NULL,
    PRIMARY KEY (project_id, tag)
);
CREATE INDEX project_tags_tag ON project_tags (tag);

CREATE TABLE policy_sets (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            text COLLATE "C" NOT NULL UNIQUE,
    current_version integer     NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    -- A deleted set stops applying; its versions and evaluations are kept.
    deleted_at      timestamptz
);

-- Every change is a new immutable version (never updated).
CREATE TABLE policy_set_versions (
    policy_set_id bigint      NOT NULL REFERENCES policy_sets (id) ON DELETE CASCADE,
    version       integer     NOT NULL,
    -- The PolicyDefinition as accepted.
    definition    jsonb       NOT NULL,
    -- SHA-256 of the canonical definition.
    digest        text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    created_by    bigint      REFERENCES api_tokens (id) ON DELETE SET NULL,
    PRIMARY KEY (policy_set_id, version)
);

-- A rule (or one violation of it) waived for an artifact or a project.
CREATE TABLE waivers (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- NULL: the rule id in any set.
    policy_set_id  bigint      REFERENCES policy_sets (id) ON DELETE CASCADE,
    rule           text        NOT NULL,
    -- Only this violation key (else the whole rule).
    violation      text,
    artifact_id    bigint      REFERENCES artifacts (id) ON DELETE CASCADE,
    project_id     bigint      REFERENCES projects (id) ON DELETE CASCADE,
    CHECK ((artifact_id IS NULL) <> (project_id IS NULL)),
    justification  text        NOT NULL,
    approver       text        NOT NULL,
    expires_at     timestamptz NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    created_by     bigint      REFERENCES api_tokens (id) ON DELETE SET NULL,
    revoked_at     timestamptz,
    -- Set once the expiry re-evaluation has been queued.
    expiry_queued  boolean     NOT NULL DEFAULT false
);
CREATE INDEX waivers_artifact ON waivers (artifact_id) WHERE artifact_id IS NOT NULL;
CREATE INDEX waivers_project ON waivers (project_id) WHERE project_id IS NOT NULL;
CREATE INDEX waivers_expiry ON waivers (expires_at) WHERE NOT expiry_queued AND revoked_at IS NULL;

-- Artifacts waiting for (re-)evaluation: one row per artifact, claimed
-- with FOR UPDATE SKIP LOCKED and deleted in the evaluating transaction.
CREATE TABLE policy_queue (
    artifact_id     bigint      PRIMARY KEY REFERENCES artifacts (id) ON DELETE CASCADE,
    reason          text        NOT NULL,
    enqueued_at     timestamptz NOT NULL DEFAULT now(),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text
);
CREATE INDEX policy_queue_due ON policy_queue (next_attempt_at);

-- History: every evaluation of an artifact against a set version.
CREATE TABLE policy_evaluations (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    artifact_id       bigint      NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
    policy_set_id     bigint      NOT NULL REFERENCES policy_sets (id) ON DELETE CASCADE,
    version           integer     NOT NULL,
    mode              text        NOT NULL CHECK (mode IN ('enforce', 'warn')),
    decision          text        NOT NULL CHECK (decision IN ('allow', 'deny')),
    -- Rule ids by effective outcome, for the matrix and the trend.
    failed_rules      text[]      NOT NULL DEFAULT '{}',
    warned_rules      text[]      NOT NULL DEFAULT '{}',
    waived_rules      text[]      NOT NULL DEFAULT '{}',
    -- The earliest expiry of a waiver that applied.
    waivers_expire_at timestamptz,
    results           jsonb       NOT NULL,
    -- SHA-256 of the evidence evaluated (RuleInput without its clock).
    input_digest      text        NOT NULL,
    trigger           text        NOT NULL,
    evaluated_at      timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (policy_set_id, version) REFERENCES policy_set_versions (policy_set_id, version)
);
CREATE INDEX policy_evaluations_artifact ON policy_evaluations (artifact_id, id DESC);
CREATE INDEX policy_evaluations_time ON policy_evaluations (evaluated_at);

-- The latest evaluation per (artifact, set): what gates read.
CREATE TABLE policy_latest (
    artifact_id   bigint NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
    policy_set_id bigint NOT NULL REFERENCES policy_sets (id) ON DELETE CASCADE,
    evaluation_id bigint NOT NULL REFERENCES policy_evaluations (id) ON DELETE CASCADE,
    PRIMARY KEY (artifact_id, policy_set_id)
);
