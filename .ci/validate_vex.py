"""Validates Cairn's VEX exports against the formats' official schemas.

Usage: validate_vex.py DIR   (DIR holds openvex.json, cyclonedx.json, csaf.json)
- OpenVEX: the spec's JSON schema (tests/fixtures/vex/openvex-spec__openvex_json_schema.json)
- CycloneDX 1.6: cyclonedx-python-lib's strict JSON validator (it ships the schema)
- CSAF 2.0: the csaf_2_0.json schema shipped by csaf-vex (the VEX profile's own
  checks run separately with `csaf-vex verify`)
"""
import json
import pathlib
import sys

import jsonschema
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

out = pathlib.Path(sys.argv[1])
root = pathlib.Path(__file__).resolve().parent.parent
ok = True


def report(name, errors):
    global ok
    errors = list(errors)
    print(f"{name}: {'PASS' if not errors else 'FAIL'}")
    for e in errors[:10]:
        ok = False
        print("   ", "/".join(map(str, getattr(e, "path", []))), getattr(e, "message", e))


schema = json.loads((root / "tests/fixtures/vex/openvex-spec__openvex_json_schema.json").read_text())
report(
    "openvex (openvex_json_schema.json, Draft 2020-12 with formats)",
    Draft202012Validator(schema, format_checker=FormatChecker()).iter_errors(
        json.loads((out / "openvex.json").read_text())
    ),
)

from cyclonedx.schema import SchemaVersion  # noqa: E402
from cyclonedx.validation.json import JsonStrictValidator  # noqa: E402

err = JsonStrictValidator(SchemaVersion.V1_6).validate_str((out / "cyclonedx.json").read_text())
report("cyclonedx 1.6 (cyclonedx-python-lib JsonStrictValidator)", [err] if err else [])

import csaf_vex  # noqa: E402

schemas = pathlib.Path(csaf_vex.__file__).parent / "verification/schemas"
csaf_schema = json.loads((schemas / "csaf_2_0.json").read_text())
registry = Registry()
for v in ["2_0", "3_0", "3_1"]:
    cvss = json.loads((schemas / f"cvss_v{v}.json").read_text())
    registry = registry.with_resource(
        f"https://www.first.org/cvss/cvss-v{v.replace('_', '.')}.json",
        Resource.from_contents(cvss, default_specification=DRAFT7),
    )
validator = jsonschema.validators.validator_for(csaf_schema)
report(
    "csaf 2.0 (csaf_2_0.json)",
    validator(csaf_schema, format_checker=FormatChecker(), registry=registry).iter_errors(
        json.loads((out / "csaf.json").read_text())
    ),
)
sys.exit(0 if ok else 1)
