//! OpenVEX 0.2 (and the 0.0.x context).

use super::*;

// ---- OpenVEX

/// A product or subcomponent: a string (0.0.x) or an object (0.2).
fn openvex_ids(p: &Value, ptr: &str) -> Result<Vec<ProductRef>, String> {
    let mut out = Vec::new();
    match p {
        Value::String(s) => ident(s, &mut out),
        Value::Object(_) => {
            if let Some(id) = opt_str(p, "@id", ptr)? {
                ident(id, &mut out);
            }
            if let Some(purl) = p.get("identifiers").and_then(|i| str_at(i, "purl")) {
                ident(purl, &mut out);
            }
            if let Some(h) = p.get("hashes").and_then(|h| str_at(h, "sha-256")) {
                if let Some(d) = digest(&format!("sha256:{h}")) {
                    push_unique(&mut out, ProductRef::Digest(d));
                }
            }
        }
        _ => return Err(format!("{ptr}: expected a string or an object")),
    }
    Ok(out)
}

/// Adds the subcomponents' purls; true when some are listed but none has one.
fn openvex_subs(v: &Value, ptr: &str, out: &mut Vec<String>) -> Result<bool, String> {
    let listed = arr(v, "subcomponents", ptr)?;
    let mut found = false;
    for (k, s) in listed.iter().enumerate() {
        for p in purls(&openvex_ids(s, &format!("{ptr}/subcomponents/{k}"))?) {
            push_unique(out, p.clone());
            found = true;
        }
    }
    Ok(!listed.is_empty() && !found)
}

pub(super) fn openvex(doc: &Value) -> Result<VexDocument, String> {
    let doc_time = time(doc, "last_updated", "")?.or(time(doc, "timestamp", "")?);
    let mut out = Vec::new();
    for (k, s) in arr(doc, "statements", "")?.iter().enumerate() {
        let ptr = format!("/statements/{k}");
        let (vulnerability, aliases) = match s.get("vulnerability") {
            Some(Value::String(name)) if !name.is_empty() => (name.clone(), vec![]),
            Some(v @ Value::Object(_)) => {
                let vptr = format!("{ptr}/vulnerability");
                let name = req_str(v, "name", &vptr)?.to_string();
                let mut aliases = strings(v, "aliases", &vptr)?;
                aliases.retain(|a| *a != name);
                (name, aliases)
            }
            _ => return Err(format!("{ptr}/vulnerability: missing")),
        };
        let status = match req_str(s, "status", &ptr)? {
            "not_affected" => VexStatus::NotAffected,
            "affected" => VexStatus::Affected,
            "fixed" => VexStatus::Fixed,
            "under_investigation" => VexStatus::UnderInvestigation,
            other => return Err(format!("{ptr}/status: unknown status {other:?}")),
        };
        let original = opt_str(s, "justification", &ptr)?.map(str::to_string);
        let detail = opt_str(s, "impact_statement", &ptr)?
            .or(opt_str(s, "status_notes", &ptr)?)
            .filter(|d| !d.is_empty());
        let timestamp = time(s, "last_updated", &ptr)?.or(time(s, "timestamp", &ptr)?);
        let mut common_subs = Vec::new();
        let unnamed = openvex_subs(s, &ptr, &mut common_subs)?; // 0.0.x: on the statement
        let mut per_product = Vec::new();
        for (p, prod) in arr(s, "products", &ptr)?.iter().enumerate() {
            let pptr = format!("{ptr}/products/{p}");
            let mut subs = common_subs.clone();
            let mut ids = openvex_ids(prod, &pptr)?;
            let unnamed = (prod.is_object() && openvex_subs(prod, &pptr, &mut subs)?) || unnamed;
            if unnamed {
                ids.clear(); // about subcomponents we cannot name
            }
            per_product.push((ids, (subs, unnamed), pptr));
        }
        let base = VexStatement {
            vulnerability,
            aliases,
            products: Vec::new(),
            subcomponents: common_subs,
            status,
            justification: original.as_deref().map(openvex_justification),
            original_justification: original,
            detail: detail.map(str::to_string),
            action: opt_str(s, "action_statement", &ptr)?.map(str::to_string),
            timestamp: timestamp.or(doc_time),
            pointer: ptr,
        };
        // Products with different subcomponents are separate claims.
        if per_product.windows(2).all(|w| w[0].1 == w[1].1) {
            let mut s = base;
            for (ids, (subs, _), _) in per_product {
                ids.into_iter()
                    .for_each(|i| push_unique(&mut s.products, i));
                s.subcomponents = subs;
            }
            push(&mut out, s)?;
        } else {
            for (products, (subcomponents, _), pointer) in per_product {
                let s = VexStatement {
                    products,
                    subcomponents,
                    pointer,
                    ..base.clone()
                };
                push(&mut out, s)?;
            }
        }
    }
    Ok(VexDocument {
        format: VexFormat::OpenVex,
        id: str_at(doc, "@id").map(str::to_string),
        author: str_at(doc, "author").map(str::to_string),
        statements: out,
    })
}
