-- Vulnerabilities: advisories imported offline (OSV), the aliases that join
-- them into one vulnerability, the packages they affect, and the CISA KEV
-- catalog. Matching happens against `components.package_key`.

-- One row per joined vulnerability (its advisories share aliases).
CREATE TABLE vulnerabilities (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY
);

-- Every advisory id and alias, and the vulnerability it belongs to: asking
-- for any of them finds the vulnerability. Groups only ever merge.
CREATE TABLE vulnerability_ids (
    id               text COLLATE "C" PRIMARY KEY,
    vulnerability_id bigint NOT NULL REFERENCES vulnerabilities (id)
);
CREATE INDEX vulnerability_ids_vulnerability ON vulnerability_ids (vulnerability_id);

CREATE TABLE advisories (
    id               text COLLATE "C" PRIMARY KEY REFERENCES vulnerability_ids (id),
    vulnerability_id bigint      NOT NULL REFERENCES vulnerabilities (id),
    source           text        NOT NULL CHECK (source IN ('osv')),
    aliases          text[]      NOT NULL DEFAULT '{}',
    summary          text,
    details          text,
    published        timestamptz,
    modified         timestamptz,
    withdrawn        timestamptz,
    severity         text        NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low', 'unknown')),
    cvss_score       double precision,
    cvss_vector      text,
    notes            text[]      NOT NULL DEFAULT '{}',
    -- SHA-256 of the record's canonical JSON: an unchanged record costs
    -- nothing on re-import (OSV `modified` cannot be trusted for this: the
    -- Go database exports them all as 0001-01-01).
    content_sha256   bytea       NOT NULL,
    record           jsonb       NOT NULL,
    imported_at      timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX advisories_vulnerability ON advisories (vulnerability_id);

-- The packages an advisory affects, one row per `affected[]` entry Cairn
-- can match. `package_key` is "<ecosystem>:<canonical name>" as for
-- components; `release` narrows distribution advisories ("12", "v3.19").
CREATE TABLE advisory_packages (
    advisory_id text COLLATE "C" NOT NULL REFERENCES advisories (id) ON DELETE CASCADE,
    ordinal     integer NOT NULL,
    package_key text COLLATE "C" NOT NULL,
    ecosystem   text NOT NULL,
    name        text NOT NULL,
    release     text,
    -- {"ranges": [...], "versions": [...], "symbols": [[path, [symbol…]]…]}
    affected    jsonb NOT NULL,
    PRIMARY KEY (advisory_id, ordinal)
);
CREATE INDEX advisory_packages_key ON advisory_packages (package_key);

CREATE TABLE kev_entries (
    cve_id                 text COLLATE "C" PRIMARY KEY,
    vendor_project         text NOT NULL,
    product                text NOT NULL,
    name                   text NOT NULL,
    date_added             date NOT NULL,
    due_date               date,
    known_ransomware_use   text,
    required_action        text,
    imported_at            timestamptz NOT NULL DEFAULT now()
);

-- What advisories call a component ('' when no advisory can: no purl, or a
-- type Cairn does not match). NULL only for rows stored before this
-- migration, until the server fills them in at start.
ALTER TABLE components ADD COLUMN package_key text COLLATE "C";
CREATE INDEX components_package_key ON components (package_key) WHERE package_key <> '';

-- An artifact's SBOM is its latest (highest id): found by index.
CREATE INDEX sboms_artifact_latest ON sboms (artifact_id, id DESC);
