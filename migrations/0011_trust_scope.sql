-- What a trust root may vouch for. issuers: the OIDC issuers whose
-- certificates a Sigstore root may vouch for (NULL: any issuer except the
-- public-good instance's well-known ones, e.g. GitHub Actions); identities:
-- certificate SAN globs (NULL: any). builder_id: for a public key, the SLSA
-- builder whose key it is (provenance it signs then earns that builder).
ALTER TABLE trust_roots
    ADD COLUMN issuers    text[],
    ADD COLUMN identities text[],
    ADD COLUMN builder_id text,
    ADD CONSTRAINT trust_roots_scope_by_kind CHECK (
        (kind = 'sigstore-root' AND builder_id IS NULL)
     OR (kind = 'public-key' AND issuers IS NULL AND identities IS NULL));
