-- Materialised findings: what matching last said about each artifact, kept
-- by the evaluation worker (every SBOM, scanner report, advisory import and
-- triage change queues the artifact). Reading an artifact's findings still
-- matches live; these rows add when a finding was first and last seen, the
-- portfolio views and the trend, and they are what notifications fire on.
CREATE TABLE findings (
    artifact_id      bigint      NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
    vulnerability_id bigint      NOT NULL REFERENCES vulnerabilities (id),
    -- The component's purl ('' for a scanner's package without one: then
    -- `package` is "type/name@version").
    purl             text COLLATE "C" NOT NULL,
    package          text COLLATE "C" NOT NULL DEFAULT '',
    package_key      text COLLATE "C" NOT NULL,
    version          text        NOT NULL,
    fixed_versions   text[]      NOT NULL DEFAULT '{}',
    -- The displayed id (GO-…, GHSA-…) and what it was when last seen.
    display_id       text COLLATE "C" NOT NULL,
    severity         text        NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low', 'unknown')),
    -- 4 critical … 0 unknown: the portfolio list sorts by it.
    severity_rank    smallint    NOT NULL,
    kev              boolean     NOT NULL,
    state            text        NOT NULL,
    first_seen       timestamptz NOT NULL,
    last_seen        timestamptz NOT NULL,
    -- Set when matching stopped reporting it (fixed version, new SBOM,
    -- withdrawn advisory); cleared when it comes back.
    resolved_at      timestamptz,
    PRIMARY KEY (artifact_id, vulnerability_id, purl, package)
);
CREATE INDEX findings_open_vulnerability ON findings (vulnerability_id) WHERE resolved_at IS NULL;
CREATE INDEX findings_open_rank ON findings (severity_rank DESC, vulnerability_id) WHERE resolved_at IS NULL;

-- Every change of a finding: the history and the trend.
CREATE TABLE finding_history (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    artifact_id      bigint      NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
    vulnerability_id bigint      NOT NULL REFERENCES vulnerabilities (id),
    purl             text COLLATE "C" NOT NULL,
    package          text COLLATE "C" NOT NULL DEFAULT '',
    change           text        NOT NULL CHECK (change IN ('appeared', 'resolved', 'reappeared')),
    severity         text        NOT NULL,
    kev              boolean     NOT NULL,
    at               timestamptz NOT NULL
);
CREATE INDEX finding_history_artifact ON finding_history (artifact_id, id);
CREATE INDEX finding_history_at ON finding_history (at);
