-- SBOM quality (backend/src/sbom/quality.rs): each profile's score and
-- weakest fields, computed at ingestion from the parsed document and stored
-- here, because policy rules (sbom-present's min_quality) and the dashboard
-- read them on every evaluation and page view, while computing them needs
-- the whole document (decompressing and parsing up to CAIRN_MAX_UPLOAD).
--
-- Backfill: SBOMs stored before this migration have NULL here. At start,
-- `ingest::backfill_quality` scores them one at a time from their stored
-- documents (in the background, oldest first) and queues their artifacts'
-- policy evaluation; until then min_quality reports an error for them and
-- the dashboard says "not scored yet".
ALTER TABLE sboms ADD COLUMN quality jsonb;

CREATE INDEX sboms_quality_unscored ON sboms (id) WHERE quality IS NULL;
