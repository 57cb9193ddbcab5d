#!/usr/bin/env python3
"""Independent check of Cairn's SBOM quality coverage (backend/src/sboms/core/quality.rs).

Reads a CycloneDX or SPDX JSON document with the standard library only and
prints, per profile field, covered/total, following the rules written in
docs/sboms.md ("Quality"), not Cairn's code. The unit tests' expected figures
were produced with:  python3 tests/tools/sbom_quality_expected.py FILE...
"""
import json
import sys

NOASSERT = {"NOASSERTION", "NONE"}


def says(v):
    """JSON value says something: Cairn's `Present`."""
    if v is None:
        return False
    if isinstance(v, str):
        v = v.strip()
        return v != "" and v.upper() not in NOASSERT
    if isinstance(v, list):
        return any(says(x) for x in v)
    if isinstance(v, dict):
        return any(says(x) for x in v.values())
    return True


def text(v):
    return v.strip() if isinstance(v, str) and v.strip() else None


def alg(a):
    a = a.strip().lower().replace("_", "-")
    return a.replace("-", "") if a.startswith("sha") and not a.startswith("sha3") else a


def cdx(d):
    nodes, by_ref, edges = [], {}, set()

    def add(c, parent):
        ref = text(c.get("bom-ref"))
        if ref is not None and ref in by_ref:
            idx = by_ref[ref]
        else:
            idx = len(nodes)
            if ref is not None:
                by_ref[ref] = idx
            nodes.append(c)
        if parent is not None and parent != idx:
            edges.add((parent, idx))
        for child in c.get("components") or []:
            add(child, idx)

    meta = d.get("metadata") or {}
    if meta.get("component"):
        add(meta["component"], None)
    for c in d.get("components") or []:
        add(c, None)
    listed = set()
    for dep in d.get("dependencies") or []:
        f = by_ref.get(text(dep.get("ref")))
        if f is None:
            continue
        listed.add(f)
        for t in dep.get("dependsOn") or []:
            t = by_ref.get(t)
            if t is not None and t != f:
                edges.add((f, t))
    linked = {e for edge in edges for e in edge} | listed

    def props(c):
        return {text(p.get("name")) for p in c.get("properties") or [] if text(p.get("value"))}

    def lic(c):
        for ch in c.get("licenses") or []:
            if text(ch.get("expression")):
                return True
            l = ch.get("license") or {}
            if text(l.get("id")) or (text(l.get("name")) and text(l.get("name")).upper() not in NOASSERT):
                return True
        return False

    def hashes(c):
        return [alg(h["alg"]) for h in c.get("hashes") or [] if text(h.get("alg")) and text(h.get("content"))]

    comps = []
    for i, c in enumerate(nodes):
        creator = says(c.get("manufacturer")) or says(c.get("authors")) or says(c.get("author"))
        supplier = bool(text((c.get("supplier") or {}).get("name")))
        p = props(c)
        comps.append({
            "supplier": supplier or creator,
            "creator": creator or supplier,
            "name": bool(text(c.get("name"))),
            "version": bool(text(c.get("version"))),
            "identifiers": bool(text(c.get("purl"))) or any(says(c.get(k)) for k in ("cpe", "swid", "omniborId", "swhid")),
            "dependencies": i in linked,
            "hash": bool(hashes(c)),
            "sha512": "sha512" in hashes(c),
            "license": lic(c),
            "filename": "bsi:component:filename" in p or (text(c.get("type")) or "").lower() == "file",
            "executable": "bsi:component:executable" in p,
            "archive": "bsi:component:archive" in p,
            "structured": "bsi:component:structured" in p,
        })
    authors = [a for a in meta.get("authors") or [] if text(a.get("name")) or text(a.get("email"))]
    tools = meta.get("tools")
    tool_list = (tools if isinstance(tools, list) else
                 ((tools or {}).get("components") or []) + ((tools or {}).get("services") or []))
    docf = {
        "author": bool(authors) or says(meta.get("manufacturer")) or says(meta.get("manufacture")),
        "tool": any(text(t.get("name")) for t in tool_list),
        "timestamp": bool(text(meta.get("timestamp"))),
        "lifecycle": says(meta.get("lifecycles")),
    }
    return comps, docf


def spdx(d):
    nodes, by_id = [], {}
    for p in d.get("packages") or []:
        if p["SPDXID"] in by_id:
            continue
        by_id[p["SPDXID"]] = len(nodes)
        nodes.append(p)
    linked = set()
    for r in d.get("relationships") or []:
        if (r.get("relationshipType") or "").upper() not in ("DEPENDS_ON", "DEPENDENCY_OF", "CONTAINS", "CONTAINED_BY"):
            continue
        a, b = by_id.get(r.get("spdxElementId")), by_id.get(r.get("relatedSpdxElement"))
        if a is not None and b is not None and a != b:
            linked |= {a, b}

    def value(v):
        v = text(v)
        return v if v and v.upper() not in NOASSERT else None

    def actor(v):
        v = value(v)
        if v is None:
            return None
        for pre in ("Organization", "Person", "Tool"):
            if v.startswith(pre) and v[len(pre):].lstrip().startswith(":"):
                v = v[len(pre):].lstrip()[1:].strip()
        return v if v and v.upper() not in NOASSERT else None

    comps = []
    for i, p in enumerate(nodes):
        refs = p.get("externalRefs") or []
        purl = any((r.get("referenceType") or "").lower() == "purl" and text(r.get("referenceLocator")) for r in refs)
        other = any((r.get("referenceType") or "").strip().lower() in ("cpe22type", "cpe23type", "swid", "swh", "gitoid")
                    and value(r.get("referenceLocator")) for r in refs)
        hs = [alg(c["algorithm"]) for c in p.get("checksums") or [] if text(c.get("algorithm")) and text(c.get("checksumValue"))]
        supplier = actor(p.get("supplier")) is not None
        creator = says(p.get("originator"))
        comps.append({
            "supplier": supplier or creator,
            "creator": creator or supplier,
            "name": bool(text(p.get("name"))),
            "version": value(p.get("versionInfo")) is not None,
            "identifiers": purl or other,
            "dependencies": i in linked,
            "hash": bool(hs),
            "sha512": "sha512" in hs,
            "license": value(p.get("licenseConcluded")) is not None or value(p.get("licenseDeclared")) is not None,
            "filename": says(p.get("packageFileName")),
            "executable": False,
            "archive": False,
            "structured": False,
        })
    ci = d.get("creationInfo") or {}
    creators = ci.get("creators") or []
    tools = [c for c in creators if c.startswith("Tool") and c[4:].lstrip().startswith(":")]
    others = [c for c in creators if c not in tools and actor(c)]
    docf = {"author": bool(others), "tool": any(actor(t) for t in tools),
            "timestamp": bool(text(ci.get("created"))), "lifecycle": False}
    return comps, docf


PROFILES = {
    "ntia": [("supplier", 1), ("name", 1), ("version", 1), ("identifiers", 2), ("dependencies", 1),
             ("author", 1, lambda d: d["author"] or d["tool"]), ("timestamp", 1, lambda d: d["timestamp"])],
    "cisa-2025": [("author", 1, lambda d: d["author"]), ("producer:supplier", 1), ("name", 1), ("version", 1),
                  ("identifiers", 2), ("hash", 2), ("license", 1), ("dependencies", 1),
                  ("tool", 1, lambda d: d["tool"]), ("timestamp", 1, lambda d: d["timestamp"]),
                  ("generation-context", 1, lambda d: d["lifecycle"])],
    "bsi-tr-03183-2": [("sbom-creator", 1, lambda d: d["author"]), ("timestamp", 1, lambda d: d["timestamp"]),
                       ("creator", 1), ("name", 1), ("version", 1), ("filename", 1), ("dependencies", 1),
                       ("licenses:license", 1), ("sha512", 2), ("executable", 1), ("archive", 1), ("structured", 1)],
}


def main():
    for path in sys.argv[1:]:
        d = json.load(open(path))
        comps, docf = cdx(d) if d.get("bomFormat") == "CycloneDX" else spdx(d)
        print(path)
        for prof, fields in PROFILES.items():
            total_w, acc, parts = 0, 0.0, []
            for f in fields:
                name, w = f[0], f[1]
                if len(f) == 3:
                    cov, tot = int(f[2](docf)), 1
                else:
                    key = name.split(":")[-1]
                    cov, tot = sum(c[key] for c in comps), len(comps)
                total_w += w
                acc += w * (cov / tot if tot else 0.0)
                parts.append(f"{name.split(':')[0]}={cov}/{tot}")
            print(f"  {prof}: score {round(1000 * acc / total_w) / 10}  " + " ".join(parts))


main()
