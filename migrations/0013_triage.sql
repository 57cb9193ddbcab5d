-- Triage decisions: a person's (or a VEX document's) verdict on one
-- vulnerability in one package, for one artifact, every artifact of a
-- project, or the whole portfolio. Decisions are never edited: a new one
-- for the same target supersedes the old, so the history stays.
CREATE TABLE triage_decisions (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    vulnerability_id bigint      NOT NULL REFERENCES vulnerabilities (id),
    -- The package as components are keyed ("Go:golang.org/x/net").
    package_key      text COLLATE "C" NOT NULL,
    -- One version of it (the component's purl), or NULL for every version.
    purl             text COLLATE "C",
    scope            text        NOT NULL CHECK (scope IN ('artifact', 'project', 'portfolio')),
    artifact_id      bigint      REFERENCES artifacts (id) ON DELETE CASCADE,
    project_id       bigint      REFERENCES projects (id) ON DELETE CASCADE,
    state            text        NOT NULL CHECK (state IN ('in_triage', 'affected', 'not_affected',
                                   'fixed', 'under_investigation', 'false_positive')),
    justification    text,
    comment          text,
    -- `manual`, or the VEX format it came from (`openvex`, `cyclonedx`, `csaf`).
    source           text        NOT NULL,
    author           text        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz,
    superseded_at    timestamptz,
    CHECK ((scope = 'artifact') = (artifact_id IS NOT NULL)),
    CHECK ((scope = 'project') = (project_id IS NOT NULL))
);
CREATE INDEX triage_decisions_current ON triage_decisions (vulnerability_id, package_key)
    WHERE superseded_at IS NULL;
