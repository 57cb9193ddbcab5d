-- Signatures, attestations and SLSA provenance, and the trust they are
-- verified against.

-- Trust added by an admin: Sigstore trusted roots (private deployments,
-- staging) and public keys. The Sigstore public-good root is built in.
CREATE TABLE trust_roots (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        text        NOT NULL CHECK (kind IN ('sigstore-root', 'public-key')),
    name        text        NOT NULL,
    -- The trusted_root.json or the PEM public key, as uploaded.
    document    text        NOT NULL,
    -- SHA-256 of the document (roots) or of the DER key (keys).
    fingerprint bytea       NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  bigint      REFERENCES api_tokens (id) ON DELETE SET NULL
);

-- Every verification attempt, verified or not. A failed attempt keeps the
-- check that failed and the exact reason; it never counts as a signature.
CREATE TABLE attestations (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The artifact named by the upload, if any; subjects link by digest too.
    artifact_id     bigint      REFERENCES artifacts (id) ON DELETE CASCADE,
    kind            text        NOT NULL CHECK (kind IN
                      ('sigstore-bundle', 'cosign-bundle', 'dsse-envelope', 'detached-signature')),
    media_type      text,
    -- Line number inside a JSON-lines upload (1 for a single document).
    line            integer     NOT NULL DEFAULT 1,
    content_sha256  bytea       NOT NULL,
    document        bytea       NOT NULL,
    verified        boolean     NOT NULL,
    failed_check    text,
    reason          text,
    CHECK (verified = (reason IS NULL)),
    -- Signer (verified, or claimed by the certificate when not verified).
    signer_san      text,
    signer_issuer   text,
    identity        jsonb,
    trusted_by      text,
    rekor_log_index bigint,
    rekor_integrated_time timestamptz,
    -- in-toto statements.
    predicate_type  text,
    provenance      jsonb,
    builder_id      text,
    source_repository text,
    source_commit   text,
    -- What the upload required of the signer, if anything.
    expected_identity text,
    expected_issuer text,
    uploaded_at     timestamptz NOT NULL DEFAULT now(),
    uploaded_by     bigint      REFERENCES api_tokens (id) ON DELETE SET NULL
);
CREATE INDEX attestations_artifact ON attestations (artifact_id, id) WHERE artifact_id IS NOT NULL;
CREATE INDEX attestations_source_commit ON attestations (source_commit) WHERE source_commit IS NOT NULL;

-- What an attestation covers: in-toto subjects, or the signed digest. A
-- subject links to every artifact with the same digest; one no artifact has
-- yet is a pending link (kept, and resolved as soon as such an artifact
-- exists).
CREATE TABLE attestation_subjects (
    attestation_id bigint  NOT NULL REFERENCES attestations (id) ON DELETE CASCADE,
    ordinal        integer NOT NULL,
    name           text,
    -- "sha256:<hex>" (or "<algorithm>:<hex>").
    digest         text    NOT NULL,
    PRIMARY KEY (attestation_id, ordinal)
);
CREATE INDEX attestation_subjects_digest ON attestation_subjects (digest);
