#!/usr/bin/env python3
"""Validate Cairn's framework definitions (nist-800-53r5.json, nist-ssdf-1.1.json, eu-cra.json).

Checks, for each file:
  * the schema exactly as the Rust loader reads it with `deny_unknown_fields`: every key present,
    no other key anywhere, no duplicate keys, value types, allowed values;
  * control ids lower case, of the framework's id pattern, unique; rules/evidence not repeated;
  * "automatic" controls have at least one rule or evidence entry, "manual" ones none;
  * NIST SP 800-53: every control id/title/family that appears in the OSCAL MODERATE or HIGH
    baseline catalog matches the catalog exactly; every other control must be in ALLOW_LIST
    below (titles from NIST SP 800-53 Rev. 5.1.1) with that exact title;
  * NIST SSDF: all 42 tasks of SP 800-218 v1.1 present, each in its practice;
  * EU CRA: the required points present, each in its group;
  * the coverage the compliance issue requires.

Usage: check.py [--dir DIR] [--oscal-dir DIR]   (stdlib only, Python 3.11+)
Exit status 0 when everything passes, 1 otherwise.
"""
import argparse
import json
import os
import re
import sys
from pathlib import Path

FRAMEWORK_FILES = {
    "nist-800-53r5": "nist-800-53r5.json",
    "nist-ssdf-1.1": "nist-ssdf-1.1.json",
    "eu-cra": "eu-cra.json",
}
EXPECTED_VERSION = {
    "nist-800-53r5": "5.1.1",
    "nist-ssdf-1.1": "1.1",
    "eu-cra": "Regulation (EU) 2024/2847",
}
EXPECTED_SOURCE = {
    "nist-800-53r5": "https://doi.org/10.6028/NIST.SP.800-53r5",
    "nist-ssdf-1.1": "https://doi.org/10.6028/NIST.SP.800-218",
    "eu-cra": "https://eur-lex.europa.eu/eli/reg/2024/2847/oj",
}
TOP_KEYS = {"id", "title", "version", "source", "controls"}
CONTROL_KEYS = {"id", "title", "group", "requirement", "assessment", "rules", "evidence", "why"}
RULE_KEYS = {"rule", "why"}
EVIDENCE_KEYS = {"kind", "why"}
ASSESSMENTS = {"automatic", "manual"}
RULES = {
    "signed", "provenance", "sbom-present", "ephemeral-runner", "workflow-hardening",
    "base-image-pinned", "go-modules-verified", "go-reproducible-build", "sbom-matches-binary",
    "vulnerabilities", "licenses", "components", "evidence-fresh",
}
EVIDENCE_KINDS = {
    "sbom", "signature", "provenance", "build", "vulnerability-analysis", "triage", "vex",
    "ci-definitions", "go-build-info", "sbom-quality",
}

ID_PATTERN = {
    # OSCAL form: family-number, enhancements as .number
    "nist-800-53r5": re.compile(r"^[a-z]{2}-[1-9][0-9]*(\.[1-9][0-9]*)?$"),
    # SSDF tasks: po.1.1, ps.2.1, pw.4.4, rv.3.4
    "nist-ssdf-1.1": re.compile(r"^(po|ps|pw|rv)\.[1-9]\.[1-9]$"),
    # CRA: Annex I Part I (1), (2)(a)-(m); Part II (1)-(8); Annex VII (1)-(8); Art. 13/14 paragraphs
    "eu-cra": re.compile(
        r"^(annex-i\.1\.1|annex-i\.1\.2\.[a-m]|annex-i\.2\.[1-8]|annex-vii\.[1-8]"
        r"|art-13\.([1-9]|1[0-9]|2[0-5])|art-14\.([1-9]|10))$"
    ),
}

# NIST SP 800-53 Rev. 5.1.1 controls used here that are in no baseline, hence absent from the
# OSCAL baseline catalogs. Titles as published in SP 800-53 Rev. 5.1.1 (and the full OSCAL catalog
# NIST_SP-800-53_rev5_catalog.json).
ALLOW_LIST = {
    "cm-14": "Signed Components",
    "sa-3.1": "Manage Preproduction Environment",
    "sa-10.1": "Software and Firmware Integrity Verification",
    "sa-15.7": "Automated Vulnerability Analysis",
    "si-7.6": "Cryptographic Protection",
    "sr-4": "Provenance",
    "sr-4.1": "Identity",
    "sr-4.2": "Track and Trace",
    "sr-4.3": "Validate as Genuine and Not Altered",
    "sr-4.4": "Supply Chain Integrity \u2014 Pedigree",
}
FAMILIES = {
    "ac": "Access Control", "at": "Awareness and Training", "au": "Audit and Accountability",
    "ca": "Assessment, Authorization, and Monitoring", "cm": "Configuration Management",
    "cp": "Contingency Planning", "ia": "Identification and Authentication",
    "ir": "Incident Response", "ma": "Maintenance", "mp": "Media Protection",
    "pe": "Physical and Environmental Protection", "pl": "Planning", "pm": "Program Management",
    "ps": "Personnel Security", "pt": "PII Processing and Transparency", "ra": "Risk Assessment",
    "sa": "System and Services Acquisition", "sc": "System and Communications Protection",
    "si": "System and Information Integrity", "sr": "Supply Chain Risk Management",
}
OSCAL_FILES = [
    "oscal-content__NIST_SP-800-53_rev5_MODERATE-baseline-resolved-profile_catalog.json",
    "oscal-content__NIST_SP-800-53_rev5_HIGH-baseline-resolved-profile_catalog-min.json",
]
REQUIRED_80053 = [
    "sr-3", "sr-4", "sr-4.1", "sr-5", "sr-11", "cm-2", "cm-7", "cm-8", "cm-14", "sa-10",
    "sa-11", "sa-15", "si-2", "si-7", "si-7.1", "si-7.6", "si-7.15", "ra-5",
]

# SP 800-218 v1.1: practices and their tasks (PW.3 was removed in 1.1; PW.4.3 and PW.5.2 moved).
SSDF_PRACTICES = {
    "po.1": ("PO.1: Define Security Requirements for Software Development", 3),
    "po.2": ("PO.2: Implement Roles and Responsibilities", 3),
    "po.3": ("PO.3: Implement Supporting Toolchains", 3),
    "po.4": ("PO.4: Define and Use Criteria for Software Security Checks", 2),
    "po.5": ("PO.5: Implement and Maintain Secure Environments for Software Development", 2),
    "ps.1": ("PS.1: Protect All Forms of Code from Unauthorized Access and Tampering", 1),
    "ps.2": ("PS.2: Provide a Mechanism for Verifying Software Release Integrity", 1),
    "ps.3": ("PS.3: Archive and Protect Each Software Release", 2),
    "pw.1": ("PW.1: Design Software to Meet Security Requirements and Mitigate Security Risks", 3),
    "pw.2": ("PW.2: Review the Software Design to Verify Compliance with Security Requirements and Risk Information", 1),
    "pw.4": ("PW.4: Reuse Existing, Well-Secured Software When Feasible Instead of Duplicating Functionality", None),
    "pw.5": ("PW.5: Create Source Code by Adhering to Secure Coding Practices", 1),
    "pw.6": ("PW.6: Configure the Compilation, Interpreter, and Build Processes to Improve Executable Security", 2),
    "pw.7": ("PW.7: Review and/or Analyze Human-Readable Code to Identify Vulnerabilities and Verify Compliance with Security Requirements", 2),
    "pw.8": ("PW.8: Test Executable Code to Identify Vulnerabilities and Verify Compliance with Security Requirements", 2),
    "pw.9": ("PW.9: Configure Software to Have Secure Settings by Default", 2),
    "rv.1": ("RV.1: Identify and Confirm Vulnerabilities on an Ongoing Basis", 3),
    "rv.2": ("RV.2: Assess, Prioritize, and Remediate Vulnerabilities", 2),
    "rv.3": ("RV.3: Analyze Vulnerabilities to Identify Their Root Causes", 4),
}


def ssdf_tasks():
    tasks = {}
    for p, (name, n) in SSDF_PRACTICES.items():
        numbers = [1, 2, 4] if p == "pw.4" else range(1, n + 1)
        for i in numbers:
            tasks[f"{p}.{i}"] = name
    return tasks


SSDF_TASKS = ssdf_tasks()  # 42


def cra_required():
    req = {"annex-i.1.1": "Annex I Part I"}
    for c in "abcdefghijklm":
        req[f"annex-i.1.2.{c}"] = "Annex I Part I"
    for i in range(1, 9):
        req[f"annex-i.2.{i}"] = "Annex I Part II"
        req[f"annex-vii.{i}"] = "Annex VII"
    for i in (2, 5, 6, 8):
        req[f"art-13.{i}"] = "Article 13"
    for i in range(1, 5):
        req[f"art-14.{i}"] = "Article 14"
    return req


CRA_REQUIRED = cra_required()


def cra_group(cid):
    if cid.startswith("annex-i.1."):
        return "Annex I Part I"
    if cid.startswith("annex-i.2."):
        return "Annex I Part II"
    if cid.startswith("annex-vii."):
        return "Annex VII"
    if cid.startswith("art-13."):
        return "Article 13"
    if cid.startswith("art-14."):
        return "Article 14"
    return None


class Errors:
    def __init__(self):
        self.items = []

    def add(self, where, msg):
        self.items.append(f"{where}: {msg}")


def no_dup_keys(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise ValueError(f"duplicate key {k!r}")
        obj[k] = v
    return obj


def check_text(err, where, value, name):
    if not isinstance(value, str) or not value.strip():
        err.add(where, f"`{name}` must be a non-empty string")
        return False
    if value != value.strip():
        err.add(where, f"`{name}` has leading or trailing whitespace")
    if "\n" in value:
        err.add(where, f"`{name}` contains a newline")
    return True


def check_keys(err, where, obj, keys):
    if not isinstance(obj, dict):
        err.add(where, "must be an object")
        return False
    missing = keys - obj.keys()
    extra = obj.keys() - keys
    if missing:
        err.add(where, f"missing keys {sorted(missing)}")
    if extra:
        err.add(where, f"unknown keys {sorted(extra)}")
    return not missing


def load_catalog(oscal_dir):
    found = {}
    names = [n for n in OSCAL_FILES if (oscal_dir / n).exists()]
    if not names:
        raise FileNotFoundError(f"none of {OSCAL_FILES} in {oscal_dir}")
    # The HIGH baseline holds every MODERATE control: either file will do.
    for name in names:
        path = oscal_dir / name
        with open(path, encoding="utf-8") as f:
            cat = json.load(f)["catalog"]

        def walk(controls, family):
            for c in controls:
                prev = found.get(c["id"])
                if prev and prev != (c["title"], family):
                    raise SystemExit(f"catalogs disagree on {c['id']}: {prev} vs {(c['title'], family)}")
                found[c["id"]] = (c["title"], family)
                walk(c.get("controls", []), family)

        for g in cat.get("groups", []):
            walk(g.get("controls", []), g["title"])
    return found


def check_file(err, fid, path, catalog):
    where = path.name
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f, object_pairs_hook=no_dup_keys)
    except (OSError, ValueError) as e:
        err.add(where, f"cannot load: {e}")
        return None
    if not check_keys(err, where, doc, TOP_KEYS):
        return None
    if doc["id"] != fid:
        err.add(where, f"id {doc['id']!r} != {fid!r}")
    for k in ("title", "version", "source"):
        check_text(err, where, doc[k], k)
    if doc["version"] != EXPECTED_VERSION[fid]:
        err.add(where, f"version {doc['version']!r} != {EXPECTED_VERSION[fid]!r}")
    if doc["source"] != EXPECTED_SOURCE[fid]:
        err.add(where, f"source {doc['source']!r} != {EXPECTED_SOURCE[fid]!r}")
    controls = doc["controls"]
    if not isinstance(controls, list) or not controls:
        err.add(where, "`controls` must be a non-empty array")
        return None
    seen = set()
    counts = {"automatic": 0, "manual": 0}
    for i, c in enumerate(controls):
        cw = f"{where} controls[{i}]"
        if not check_keys(err, cw, c, CONTROL_KEYS):
            continue
        cid = c["id"]
        if not isinstance(cid, str):
            err.add(cw, "`id` must be a string")
            continue
        cw = f"{where} {cid}"
        if cid != cid.lower():
            err.add(cw, "id must be lower case")
        if not ID_PATTERN[fid].match(cid):
            err.add(cw, "id does not match the framework's id pattern")
        if cid in seen:
            err.add(cw, "duplicate id")
        seen.add(cid)
        for k in ("title", "group", "requirement", "why"):
            check_text(err, cw, c[k], k)
        if c["assessment"] not in ASSESSMENTS:
            err.add(cw, f"assessment {c['assessment']!r} not in {sorted(ASSESSMENTS)}")
        else:
            counts[c["assessment"]] += 1
        for list_key, item_keys, value_key, allowed in (
            ("rules", RULE_KEYS, "rule", RULES),
            ("evidence", EVIDENCE_KEYS, "kind", EVIDENCE_KINDS),
        ):
            items = c[list_key]
            if not isinstance(items, list):
                err.add(cw, f"`{list_key}` must be an array")
                continue
            values = set()
            for j, it in enumerate(items):
                iw = f"{cw} {list_key}[{j}]"
                if not check_keys(err, iw, it, item_keys):
                    continue
                v = it[value_key]
                if v not in allowed:
                    err.add(iw, f"{value_key} {v!r} not allowed")
                if v in values:
                    err.add(iw, f"{value_key} {v!r} repeated")
                values.add(v)
                check_text(err, iw, it["why"], "why")
        if isinstance(c["rules"], list) and isinstance(c["evidence"], list):
            n = len(c["rules"]) + len(c["evidence"])
            if c["assessment"] == "automatic" and n == 0:
                err.add(cw, "automatic control with no rules and no evidence")
            if c["assessment"] == "manual" and n != 0:
                err.add(cw, "manual control must have empty rules and evidence")

        # framework-specific
        if fid == "nist-800-53r5":
            family = FAMILIES.get(cid.split("-")[0])
            if cid in catalog:
                title, fam = catalog[cid]
                counts["catalog"] = counts.get("catalog", 0) + 1
                if cid in ALLOW_LIST:
                    err.add(cw, "is in the OSCAL baseline catalogs; remove it from ALLOW_LIST")
                if c["title"] != title:
                    err.add(cw, f"title {c['title']!r} != catalog {title!r}")
                family = fam
            elif cid in ALLOW_LIST:
                counts["allow-list"] = counts.get("allow-list", 0) + 1
                if c["title"] != ALLOW_LIST[cid]:
                    err.add(cw, f"title {c['title']!r} != allow-list {ALLOW_LIST[cid]!r}")
            else:
                err.add(cw, "not in the OSCAL baseline catalogs and not in ALLOW_LIST")
            if c["group"] != family:
                err.add(cw, f"group {c['group']!r} != family {family!r}")
        elif fid == "nist-ssdf-1.1":
            practice = SSDF_TASKS.get(cid)
            if practice is None:
                err.add(cw, "not a task of SP 800-218 v1.1")
            elif c["group"] != practice:
                err.add(cw, f"group {c['group']!r} != practice {practice!r}")
        elif fid == "eu-cra":
            g = cra_group(cid)
            if c["group"] != g:
                err.add(cw, f"group {c['group']!r} != {g!r}")

    required = {
        "nist-800-53r5": REQUIRED_80053,
        "nist-ssdf-1.1": list(SSDF_TASKS),
        "eu-cra": list(CRA_REQUIRED),
    }[fid]
    for r in required:
        if r not in seen:
            err.add(where, f"required control {r} missing")
    return counts


def default_oscal_dir(script_dir):
    env = os.environ.get("CAIRN_OSCAL_DIR")
    candidates = [Path(env)] if env else []
    # in the repo (…/cairn/frameworks/check.py or deeper) the shared data sits beside it: ../shared/data/oscal
    for parent in [script_dir, *script_dir.parents]:
        candidates.append(parent / "shared" / "data" / "oscal")
        candidates.append(parent.parent / "shared" / "data" / "oscal")
    candidates.append(Path("/work/shared/data/oscal"))
    for c in candidates:
        if (c / OSCAL_FILES[0]).is_file():
            return c
    return candidates[-1]


def main():
    script_dir = Path(__file__).resolve().parent
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", type=Path, default=script_dir, help="directory holding the framework JSON files")
    ap.add_argument("--oscal-dir", type=Path, default=None, help="directory holding the OSCAL baseline catalogs")
    args = ap.parse_args()
    oscal_dir = args.oscal_dir or default_oscal_dir(script_dir)
    try:
        catalog = load_catalog(oscal_dir)
    except OSError as e:
        print(f"cannot read the OSCAL catalogs in {oscal_dir}: {e}", file=sys.stderr)
        return 1
    print(f"OSCAL baseline catalogs: {len(catalog)} controls and enhancements ({oscal_dir})")
    err = Errors()
    for fid, name in FRAMEWORK_FILES.items():
        counts = check_file(err, fid, args.dir / name, catalog)
        if counts is not None:
            total = counts["automatic"] + counts["manual"]
            line = f"{name}: {total} controls, {counts['automatic']} automatic, {counts['manual']} manual"
            if "catalog" in counts or "allow-list" in counts:
                line += (f" (titles: {counts.get('catalog', 0)} matched against the OSCAL catalogs,"
                         f" {counts.get('allow-list', 0)} against the allow-list)")
            print(line)
    if err.items:
        print(f"FAILED: {len(err.items)} problem(s)")
        for e in err.items:
            print("  " + e)
        return 1
    print("OK: schema, ids, titles and coverage check out")
    return 0


if __name__ == "__main__":
    sys.exit(main())
