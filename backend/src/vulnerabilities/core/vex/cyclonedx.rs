//! CycloneDX VEX (1.4–1.6): `vulnerabilities[].analysis` and `affects[].ref`.

use super::*;

// ---- CycloneDX

fn cdx_ids(c: &Value) -> Vec<ProductRef> {
    let mut out = Vec::new();
    if let Some(p) = str_at(c, "purl") {
        ident(p, &mut out);
    }
    for h in c
        .get("hashes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if str_at(h, "alg") == Some("SHA-256") {
            if let Some(d) = str_at(h, "content").and_then(|x| digest(&format!("sha256:{x}"))) {
                push_unique(&mut out, ProductRef::Digest(d));
            }
        }
    }
    out
}

pub(super) fn cyclonedx(doc: &Value) -> Result<VexDocument, String> {
    let spec = opt_str(doc, "specVersion", "")?.unwrap_or("");
    if let Some(minor) = spec.strip_prefix("1.").and_then(|m| m.parse::<u32>().ok()) {
        if minor < 4 {
            return Err(format!(
                "/specVersion: CycloneDX {spec} has no vulnerabilities; VEX needs 1.4 or later"
            ));
        }
    }
    let meta = doc.get("metadata").unwrap_or(&Value::Null);
    let product = meta.get("component").filter(|c| c.is_object());
    // bom-ref → component, walking nested components without recursion.
    let mut refs: HashMap<&str, &Value> = HashMap::new();
    let mut stack: Vec<(&Value, usize, String)> = Vec::new();
    if let Some(p) = product {
        stack.push((p, 0, "/metadata/component".into()));
    }
    for (i, c) in arr(doc, "components", "")?.iter().enumerate() {
        stack.push((c, 0, format!("/components/{i}")));
    }
    while let Some((c, depth, ptr)) = stack.pop() {
        if depth > MAX_TREE_DEPTH {
            return Err(format!(
                "{ptr}: components nested deeper than {MAX_TREE_DEPTH}"
            ));
        }
        if let Some(r) = opt_str(c, "bom-ref", &ptr)? {
            refs.entry(r).or_insert(c);
        }
        for (i, sub) in arr(c, "components", &ptr)?.iter().enumerate() {
            stack.push((sub, depth + 1, format!("{ptr}/components/{i}")));
        }
    }
    // A BOM-Link (urn:cdx:serial/version#ref) into this very BOM resolves locally.
    let serial = str_at(doc, "serialNumber").and_then(|s| s.strip_prefix("urn:uuid:"));
    let resolve = |r: &str| -> Option<&Value> {
        let local = match r.strip_prefix("urn:cdx:") {
            Some(link) => {
                let (bom, frag) = link.split_once('#')?;
                if Some(bom.split('/').next()?) != serial {
                    return None;
                }
                pct_decode(frag)
            }
            None => r.to_string(),
        };
        refs.get(local.as_str()).copied()
    };
    let product_ids = product.map(cdx_ids).unwrap_or_default();
    let doc_time = time(meta, "timestamp", "/metadata")?;
    let mut out = Vec::new();
    for (i, v) in arr(doc, "vulnerabilities", "")?.iter().enumerate() {
        let vptr = format!("/vulnerabilities/{i}");
        let Some(analysis) = v.get("analysis").filter(|a| !a.is_null()) else {
            continue;
        };
        let aptr = format!("{vptr}/analysis");
        let Some(state) = opt_str(analysis, "state", &aptr)? else {
            continue;
        };
        let status = match state {
            "not_affected" | "false_positive" => VexStatus::NotAffected,
            "exploitable" => VexStatus::Affected,
            "resolved" | "resolved_with_pedigree" => VexStatus::Fixed,
            "in_triage" => VexStatus::UnderInvestigation,
            other => return Err(format!("{aptr}/state: unknown analysis state {other:?}")),
        };
        let id = req_str(v, "id", &vptr)?;
        let mut aliases = Vec::new();
        for (k, r) in arr(v, "references", &vptr)?.iter().enumerate() {
            let a = req_str(r, "id", &format!("{vptr}/references/{k}"))?;
            if a != id {
                push_unique(&mut aliases, a.to_string());
            }
        }
        let original = opt_str(analysis, "justification", &aptr)?.map(str::to_string);
        let responses = strings(analysis, "response", &aptr)?;
        let action = opt_str(v, "recommendation", &vptr)?
            .or(opt_str(v, "workaround", &vptr)?)
            .map(str::to_string)
            .or((!responses.is_empty()).then(|| responses.join(", ")));
        let mut timestamp = None;
        for (obj, key, ptr) in [
            (analysis, "lastUpdated", &aptr),
            (analysis, "firstIssued", &aptr),
            (v, "updated", &vptr),
            (v, "published", &vptr),
        ] {
            timestamp = timestamp.or(time(obj, key, ptr)?);
        }
        let base = VexStatement {
            vulnerability: id.to_string(),
            aliases,
            products: Vec::new(),
            subcomponents: Vec::new(),
            status,
            justification: original.as_deref().map(openvex_justification),
            original_justification: original.clone(),
            detail: opt_str(analysis, "detail", &aptr)?.map(str::to_string),
            action,
            timestamp: timestamp.or(doc_time),
            pointer: vptr.clone(),
        };
        let affects = arr(v, "affects", &vptr)?;
        if affects.is_empty() {
            push(&mut out, base.clone())?;
        }
        for (j, a) in affects.iter().enumerate() {
            let ptr = format!("{vptr}/affects/{j}");
            let r = req_str(a, "ref", &ptr)?;
            let (products, subcomponents) = match resolve(r) {
                Some(c) if product.is_some_and(|p| std::ptr::eq(p, c)) => (cdx_ids(c), vec![]),
                Some(c) if product.is_some() => {
                    let subs: Vec<String> = purls(&cdx_ids(c)).cloned().collect();
                    let ids = if subs.is_empty() {
                        vec![]
                    } else {
                        product_ids.clone()
                    };
                    (ids, subs)
                }
                Some(c) => (cdx_ids(c), vec![]),
                // Some producers use the purl itself as the ref.
                None if r.starts_with("pkg:") && product.is_some() => {
                    (product_ids.clone(), vec![r.to_string()])
                }
                None => {
                    let mut ids = Vec::new();
                    ident(r, &mut ids);
                    (ids, vec![])
                }
            };
            let s = VexStatement {
                products,
                subcomponents,
                pointer: ptr,
                ..base.clone()
            };
            push(&mut out, s)?;
        }
    }
    Ok(VexDocument {
        format: VexFormat::CycloneDx,
        id: str_at(doc, "serialNumber").map(str::to_string),
        author: meta
            .get("authors")
            .and_then(|a| a.get(0))
            .or(meta.get("supplier"))
            .or(meta.get("manufacturer"))
            .and_then(|a| str_at(a, "name"))
            .map(str::to_string),
        statements: out,
    })
}
