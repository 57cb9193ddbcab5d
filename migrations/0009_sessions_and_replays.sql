-- Evidence integrity: server-side dashboard sessions, replayed webhook
-- deliveries, and an audit that unauthenticated senders cannot grow.

-- A dashboard session: the `jti` of its signed cookie. A cookie is only
-- honoured while its row exists, has not expired and is not revoked (sign-out
-- revokes it), and its token is not revoked.
CREATE TABLE sessions (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    jti        text        NOT NULL UNIQUE,
    token_id   bigint      NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX sessions_token ON sessions (token_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- SHA-256 of each delivery's body. A GitHub signature covers the body only,
-- so a captured delivery can be sent again under a new X-GitHub-Delivery: a
-- body identical to one received from the same source within the replay
-- window is a duplicate.
ALTER TABLE webhook_deliveries ADD COLUMN body_sha256 bytea;
UPDATE webhook_deliveries d SET body_sha256 = sha256(d.body)
  FROM webhook_sources s
 WHERE s.id = d.source_id AND s.provider = 'github'
   AND d.received_at > now() - interval '24 hours';
CREATE INDEX webhook_deliveries_body ON webhook_deliveries (source_id, body_sha256)
    WHERE body_sha256 IS NOT NULL;

-- Refusals are aggregated per (provider, reason, remote address, minute),
-- whatever the source name in the URL: random names must not mean new rows.
-- `source_name` is the first name seen in the row's minute, `last_source_name`
-- the latest.
ALTER TABLE webhook_audit ADD COLUMN last_source_name text;
UPDATE webhook_audit SET last_source_name = source_name;
UPDATE webhook_audit a
   SET occurrences = g.occurrences, last_seen = g.last_seen, last_source_name = g.last_name
  FROM (SELECT min(id) AS id, sum(occurrences)::integer AS occurrences,
               max(last_seen) AS last_seen,
               (array_agg(source_name ORDER BY last_seen DESC))[1] AS last_name
          FROM webhook_audit
         GROUP BY provider, coalesce(remote_addr, ''), reason, minute
        HAVING count(*) > 1) g
 WHERE a.id = g.id;
DELETE FROM webhook_audit a
 USING webhook_audit b
 WHERE a.provider = b.provider AND coalesce(a.remote_addr, '') = coalesce(b.remote_addr, '')
   AND a.reason = b.reason AND a.minute = b.minute AND a.id > b.id;
ALTER TABLE webhook_audit ALTER COLUMN last_source_name SET NOT NULL;
DROP INDEX webhook_audit_minute;
CREATE UNIQUE INDEX webhook_audit_minute
    ON webhook_audit (provider, coalesce(remote_addr, ''), reason, minute);
