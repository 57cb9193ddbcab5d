-- An evaluation whose results time alone will change (a passing
-- `evidence-fresh` rule: its evidence ages) holds until this moment. The
-- gate treats it as stale afterwards and the policy workers queue the
-- artifact again, so an ageing SBOM cannot keep an `allow`. The latest
-- evaluation's moment is kept beside it too, for the workers' sweep.
ALTER TABLE policy_evaluations ADD COLUMN holds_until timestamptz;
ALTER TABLE policy_latest ADD COLUMN holds_until timestamptz;
CREATE INDEX policy_latest_holds_until ON policy_latest (holds_until)
    WHERE holds_until IS NOT NULL;
