-- A maintainer manages policy sets and waivers without being able to mint
-- tokens or configure webhook sources and trust roots (admin only).
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_role_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_role_check
    CHECK (role IN ('admin', 'maintainer', 'uploader', 'viewer'));
