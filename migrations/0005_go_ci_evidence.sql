-- Go and CI-hardening evidence: build info read from Go binaries (the
-- binary itself is not kept), go.mod / go.sum, and CI definitions with
-- their hardening findings.

CREATE TABLE go_builds (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    artifact_id    bigint      NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
    -- `binary` (digest computed from the upload) or `version-m` (text).
    source         text        NOT NULL CHECK (source IN ('binary', 'version-m')),
    -- "sha256:<64 hex>" of the uploaded binary.
    binary_digest  text,
    binary_size    bigint,
    go_version     text        NOT NULL,
    main_path      text,
    main_version   text,
    -- The whole build info (main module, settings, modules) as extracted.
    build_info     jsonb       NOT NULL,
    module_count   integer     NOT NULL,
    uploaded_at    timestamptz NOT NULL DEFAULT now(),
    uploaded_by    bigint      REFERENCES api_tokens (id) ON DELETE SET NULL
);
CREATE INDEX go_builds_artifact ON go_builds (artifact_id, id DESC);

CREATE TABLE go_module_files (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    artifact_id    bigint      NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
    kind           text        NOT NULL CHECK (kind IN ('go.mod', 'go.sum')),
    content_sha256 bytea       NOT NULL,
    parsed         jsonb       NOT NULL,
    uploaded_at    timestamptz NOT NULL DEFAULT now(),
    uploaded_by    bigint      REFERENCES api_tokens (id) ON DELETE SET NULL
);
CREATE INDEX go_module_files_artifact ON go_module_files (artifact_id, kind, id DESC);

CREATE TABLE ci_definitions (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id     bigint      NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    kind           text        NOT NULL CHECK (kind IN ('github-workflow', 'gitlab-ci', 'dockerfile')),
    -- Path in the repository, as named at upload (or the kind's default).
    file           text        NOT NULL,
    -- The definition itself (at most 1 MiB): rules re-check it with their
    -- own parameters.
    content        text        NOT NULL,
    content_sha256 bytea       NOT NULL,
    -- Findings with the default parameters, as answered at upload.
    findings       jsonb       NOT NULL,
    finding_count  integer     NOT NULL,
    uploaded_at    timestamptz NOT NULL DEFAULT now(),
    uploaded_by    bigint      REFERENCES api_tokens (id) ON DELETE SET NULL
);
-- The latest definition of each file of a project.
CREATE INDEX ci_definitions_project_file ON ci_definitions (project_id, file, id DESC);
