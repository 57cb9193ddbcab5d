-- Trusted publishing: a CI pipeline exchanges its OIDC ID token (GitHub
-- Actions, GitLab CI) for a short-lived Cairn token, no stored secret.

-- Who may exchange: an issuer, the audience its tokens must carry, claim
-- constraints (exact values or `*` globs), the projects the issued tokens
-- may write to (exact names or globs) and their role.
CREATE TABLE trusted_publishers (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    provider    text        NOT NULL CHECK (provider IN ('github', 'gitlab')),
    issuer      text        NOT NULL,
    audience    text        NOT NULL,
    claims      jsonb       NOT NULL,
    projects    text[]      NOT NULL CHECK (cardinality(projects) > 0),
    role        text        NOT NULL CHECK (role IN ('viewer', 'uploader', 'maintainer')),
    created_by  bigint      REFERENCES api_tokens (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);
CREATE INDEX trusted_publishers_issuer ON trusted_publishers (issuer) WHERE deleted_at IS NULL;

-- Tokens minted by an exchange: they expire, may write only to `projects`
-- (NULL: every project, as for tokens created by an admin) and remember the
-- publisher and the verified claims that earned them.
ALTER TABLE api_tokens
    ADD COLUMN expires_at   timestamptz,
    ADD COLUMN projects     text[],
    ADD COLUMN publisher_id bigint REFERENCES trusted_publishers (id) ON DELETE SET NULL,
    ADD COLUMN claims       jsonb;
CREATE INDEX api_tokens_publisher ON api_tokens (publisher_id) WHERE publisher_id IS NOT NULL;

-- An issuer's signing keys (a JWK Set): configured offline (the API or
-- CAIRN_OIDC_JWKS_FILE) or fetched from its discovery document when
-- CAIRN_OIDC_FETCH_JWKS allows it.
CREATE TABLE oidc_jwks (
    issuer     text PRIMARY KEY,
    jwks       jsonb       NOT NULL,
    source     text        NOT NULL CHECK (source IN ('api', 'file', 'discovery')),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Every ID token exchanged once: a `jti` seen again is a replay. Rows are
-- kept until the ID token itself has expired.
CREATE TABLE oidc_used_tokens (
    issuer     text        NOT NULL,
    jti        text        NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (issuer, jti)
);
CREATE INDEX oidc_used_tokens_expires ON oidc_used_tokens (expires_at);

-- The audit of every exchange, granted or refused: the check that failed
-- and why. `subject` and `claims` are recorded only once the signature
-- verified, `issuer` only when a publisher trusts it: an unauthenticated
-- caller cannot fill the log with its own text. Refusals are aggregated per
-- (minute, issuer, failed check), so neither can it grow the table faster
-- than that.
CREATE TABLE oidc_exchanges (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    issuer       text,
    subject      text,
    outcome      text        NOT NULL CHECK (outcome IN ('granted', 'refused')),
    check_failed text,
    reason       text,
    publisher_id bigint REFERENCES trusted_publishers (id) ON DELETE SET NULL,
    token_id     bigint REFERENCES api_tokens (id) ON DELETE SET NULL,
    claims       jsonb,
    minute       timestamptz NOT NULL DEFAULT date_trunc('minute', now()),
    occurrences  integer     NOT NULL DEFAULT 1,
    CHECK (outcome = 'granted' OR check_failed IS NOT NULL)
);
CREATE INDEX oidc_exchanges_at ON oidc_exchanges (at);
CREATE UNIQUE INDEX oidc_exchanges_refusals
    ON oidc_exchanges (minute, (coalesce(issuer, '')), check_failed)
    WHERE outcome = 'refused';
