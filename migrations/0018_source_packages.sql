-- Distro source packages: what advisories of source-named databases
-- (Debian, Ubuntu, Alpine, distro RPMs) call a binary package, e.g.
-- `Alpine:openssl` for libcrypto3. '' when the component has none (or it
-- is its own source); source_version when the SBOM gives one that may
-- differ from the binary's.
ALTER TABLE components
    ADD COLUMN source_key text COLLATE "C" NOT NULL DEFAULT '',
    ADD COLUMN source_version text;
CREATE INDEX components_source_key ON components (source_key) WHERE source_key <> '';
-- Components stored before: Syft's `upstream=` purl qualifier is enough to
-- fill them in at start (`package_key IS NULL` rows are re-keyed); Trivy's
-- properties were not kept, so their SBOMs need uploading again.
-- `pkg:alpine/…` purls (older Syft) are matched now too.
UPDATE components SET package_key = NULL
 WHERE purl LIKE '%upstream=%' OR purl LIKE 'pkg:alpine/%';
