"""Reads each OSCAL assessment-results document with compliance-trestle's
OSCAL 1.1 models (pydantic: every required field, type and pattern) and
checks what Cairn promises: a finding per judged control, observations that
carry their evidence links. Usage: validate_oscal.py FILE..."""
import json
import pathlib
import sys

from trestle.oscal.assessment_results import AssessmentResults

for name in sys.argv[1:]:
    path = pathlib.Path(name)
    ar = AssessmentResults.oscal_read(path)
    assert ar is not None, f"{name}: trestle read nothing"
    result = ar.results[0]
    findings = result.findings or []
    observations = result.observations or []
    assert observations, f"{name}: no observations"
    linked = [o for o in observations if o.relevant_evidence]
    assert linked, f"{name}: no observation carries evidence"
    states = {getattr(f.target.status.state, "value", f.target.status.state) for f in findings}
    assert states <= {"satisfied", "not-satisfied"}, states
    raw = json.loads(path.read_text())["assessment-results"]
    print(f"{path.name}: OSCAL {raw['metadata']['oscal-version']}, "
          f"{len(observations)} observations ({len(linked)} with evidence), "
          f"{len(findings)} findings {sorted(states)}: read by compliance-trestle")
