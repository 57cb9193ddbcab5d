-- Dependency-Track compatibility (backend/src/dtrack/, docs/ci-integration.md).
--
-- A DT client names a "project" by name and version and then refers to it
-- by a UUID. Each Cairn artifact (project, artifact name, version) that a
-- DT client uploaded to or looked up gets one stable UUID here, with the DT
-- name and version it was addressed by (unique, as in DT) and the time of
-- its last BOM import (epoch milliseconds in the DT answers; strictly
-- increasing per project, so even an identical re-upload changes it).
CREATE TABLE dtrack_projects (
    uuid            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    artifact_id     bigint      NOT NULL UNIQUE REFERENCES artifacts (id) ON DELETE CASCADE,
    dt_name         text        NOT NULL,
    dt_version      text        NOT NULL,
    -- The DT parent's name when the upload named one (Cairn's project).
    parent_name     text,
    tags            text[]      NOT NULL DEFAULT '{}',
    is_latest       boolean     NOT NULL DEFAULT false,
    last_bom_import timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (dt_name, dt_version)
);

-- One row per BOM upload through the DT endpoints: the token answered, and
-- the SBOM it stored (or found already stored). Whether it is still
-- processing is read live from the policy queue and the components'
-- matching index, never stored, so it cannot go stale.
CREATE TABLE dtrack_uploads (
    token       uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    artifact_id bigint      NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
    sbom_id     bigint      NOT NULL REFERENCES sboms (id) ON DELETE CASCADE,
    uploaded_by bigint      REFERENCES api_tokens (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dtrack_uploads_artifact ON dtrack_uploads (artifact_id);
