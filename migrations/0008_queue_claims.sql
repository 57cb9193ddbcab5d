-- Poison-pill isolation. Before a queue item is processed, its claim is
-- recorded here in a transaction of its own; the transaction that completes
-- the item (done, retried, dead) removes the row. A row that is still there
-- at the next claim means the process (or the worker) died while processing
-- the item: after CAIRN_QUEUE_MAX_CLAIMS such claims the item is
-- dead-lettered instead of being processed again.
CREATE TABLE queue_claims (
    queue           text        NOT NULL CHECK (queue IN ('policy', 'webhook')),
    item_id         bigint      NOT NULL,
    claims          integer     NOT NULL,
    last_claimed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (queue, item_id)
);

-- A policy evaluation that never completed stays queued but is no longer
-- claimed (dead), until replayed; last_error says why.
ALTER TABLE policy_queue ADD COLUMN dead_at timestamptz;
