-- Evidence integrity.
-- One verified row per document: the same bytes uploaded again (or N copies
-- in one JSON-lines file) are the same evidence, not N signatures. Older
-- verified copies of the same bytes are folded into the first.
DELETE FROM attestations a
 USING attestations b
 WHERE a.verified AND b.verified
   AND a.content_sha256 = b.content_sha256
   AND a.id > b.id;
CREATE UNIQUE INDEX attestations_verified_content
    ON attestations (content_sha256) WHERE verified;
-- Unverified attempts are bounded per artifact: counted by this index.
CREATE INDEX attestations_unverified_artifact
    ON attestations (artifact_id) WHERE NOT verified;
