-- CSAF 2.0 security advisories are a second advisory source: their
-- vulnerabilities are stored as OSV records with source 'csaf'.
ALTER TABLE advisories DROP CONSTRAINT advisories_source_check;
ALTER TABLE advisories ADD CONSTRAINT advisories_source_check CHECK (source IN ('osv', 'csaf'));
