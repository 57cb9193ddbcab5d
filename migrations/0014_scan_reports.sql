-- Scanner reports (Grype, Trivy) of an artifact and their findings. The
-- latest report of each scanner counts; findings are merged with Cairn's
-- own matches by (vulnerability or alias, package).
CREATE TABLE scan_reports (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    artifact_id     bigint      NOT NULL REFERENCES artifacts (id) ON DELETE CASCADE,
    scanner         text        NOT NULL CHECK (scanner IN ('grype', 'trivy')),
    scanner_version text,
    target          text,
    target_digest   text,
    content_sha256  bytea       NOT NULL,
    finding_count   integer     NOT NULL,
    uploaded_at     timestamptz NOT NULL DEFAULT now(),
    uploaded_by     bigint      REFERENCES api_tokens (id) ON DELETE SET NULL,
    UNIQUE (artifact_id, scanner, content_sha256)
);
CREATE INDEX scan_reports_latest ON scan_reports (artifact_id, scanner, id DESC);

CREATE TABLE scan_findings (
    report_id      bigint  NOT NULL REFERENCES scan_reports (id) ON DELETE CASCADE,
    ordinal        integer NOT NULL,
    vulnerability  text    NOT NULL,
    aliases        text[]  NOT NULL DEFAULT '{}',
    -- The package: its purl when the scanner gave one, always type/name/version.
    purl           text,
    package_key    text,
    package_type   text    NOT NULL,
    name           text    NOT NULL,
    version        text    NOT NULL,
    fixed_versions text[]  NOT NULL DEFAULT '{}',
    severity       text,
    cvss_vector    text,
    PRIMARY KEY (report_id, ordinal)
);
