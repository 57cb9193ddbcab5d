-- A CI run that arrives after an artifact's signatures or provenance is new
-- evidence for that artifact (build records feed `ephemeral-runner` and the
-- Rego input). These indexes find the verified attestations a run is linked
-- to the same ways `load_input` links them: by commit, and by GitHub run id.

-- (source_commit has an index since 0003.)

CREATE INDEX attestations_workflow_sha ON attestations ((identity ->> 'workflow_sha'))
    WHERE verified AND identity IS NOT NULL;

CREATE INDEX attestations_identity_run ON attestations
    ((split_part(split_part(identity ->> 'run_url', '/actions/runs/', 2), '/', 1)))
    WHERE verified AND identity IS NOT NULL;

CREATE INDEX attestations_invocation_run ON attestations
    ((split_part(split_part(provenance ->> 'invocation_id', '/actions/runs/', 2), '/', 1)))
    WHERE verified AND provenance IS NOT NULL;
