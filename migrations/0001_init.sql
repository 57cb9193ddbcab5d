-- Cairn foundation: access tokens, projects, artifacts, SBOMs and the
-- deduplicated component inventory.

CREATE TABLE api_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text        NOT NULL,
    role         text        NOT NULL CHECK (role IN ('admin', 'uploader', 'viewer')),
    -- SHA-256 of the secret token; the token itself is never stored.
    token_hash   bytea       NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);

-- Small server-wide secrets and settings (e.g. the session signing key).
CREATE TABLE settings (
    key   text  PRIMARY KEY,
    value bytea NOT NULL
);

CREATE TABLE projects (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           text COLLATE "C" NOT NULL UNIQUE,
    repository_url text,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE artifacts (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id bigint      NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name       text        NOT NULL,
    version    text        NOT NULL,
    -- "sha256:<64 hex>" when known.
    digest     text,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, name, version)
);
CREATE INDEX artifacts_digest ON artifacts (digest) WHERE digest IS NOT NULL;

CREATE TABLE sboms (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    artifact_id      bigint      NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
    -- SHA-256 of the (decoded) document: uploads are idempotent on it.
    content_sha256   bytea       NOT NULL,
    format           text        NOT NULL CHECK (format IN ('cyclonedx', 'spdx')),
    spec_version     text        NOT NULL,
    tool             text,
    serial           text,
    document_created text,
    authors          text[]      NOT NULL DEFAULT '{}',
    component_count  integer     NOT NULL,
    dependency_count integer     NOT NULL,
    edge_count       integer     NOT NULL,
    -- Predicate type when the SBOM came inside an in-toto statement.
    envelope_predicate text,
    warnings         jsonb       NOT NULL DEFAULT '[]',
    document_size    bigint      NOT NULL,
    uploaded_at      timestamptz NOT NULL DEFAULT now(),
    uploaded_by      bigint      REFERENCES api_tokens (id) ON DELETE SET NULL,
    UNIQUE (artifact_id, content_sha256)
);

-- The original document, gzip-compressed, kept apart so listings stay light.
CREATE TABLE sbom_documents (
    sbom_id bigint PRIMARY KEY REFERENCES sboms (id) ON DELETE CASCADE,
    gzip    bytea NOT NULL
);
-- Already compressed: don't let TOAST try again.
ALTER TABLE sbom_documents ALTER COLUMN gzip SET STORAGE EXTERNAL;

-- A component is stored once however many SBOMs contain it; `identity` is
-- the SHA-256 of its normalised fields.
CREATE TABLE components (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    identity bytea NOT NULL UNIQUE,
    kind     text  NOT NULL,
    name     text  NOT NULL,
    version  text,
    -- "C" collation: prefix search is a plain btree range scan.
    purl     text COLLATE "C",
    supplier text,
    licenses text,
    -- [["sha256","<hex>"], ...]
    hashes   jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX components_purl ON components (purl);
CREATE INDEX components_name_version ON components (name, version);

-- Which components an SBOM lists, in document order, with the SBOM's
-- relationships as ordinal arrays (edges are only ever read per SBOM, so a
-- separate edge table would cost a row per edge for nothing).
-- No foreign keys on this hot, append-only table: rows are written only by
-- the ingestion transaction that creates the SBOM, resolving component_id by
-- a join in the same statement, and components are never deleted; per-row
-- referential checks would double the cost of storing a large SBOM.
CREATE TABLE sbom_components (
    sbom_id      bigint    NOT NULL,
    ordinal      integer   NOT NULL,
    component_id bigint    NOT NULL,
    bom_ref      text,
    -- The SBOM's described subject (CycloneDX metadata.component, SPDX's
    -- described package).
    is_root      boolean   NOT NULL DEFAULT false,
    -- Ordinals this component depends on / contains.
    depends_on   integer[] NOT NULL DEFAULT '{}',
    contains     integer[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (sbom_id, ordinal)
);
CREATE INDEX sbom_components_component ON sbom_components (component_id);
