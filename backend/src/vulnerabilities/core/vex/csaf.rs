//! CSAF 2.0, VEX profile: `product_status` over the product tree.

use super::*;

// ---- CSAF

#[derive(Default, Clone)]
struct CsafProduct {
    ids: Vec<ProductRef>,
    subs: Vec<String>,
}

fn csaf_ids(fpn: &Value) -> Vec<ProductRef> {
    let mut out = Vec::new();
    let Some(h) = fpn.get("product_identification_helper") else {
        return out;
    };
    let listed = h
        .get("purls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten();
    for p in h
        .get("purl")
        .into_iter()
        .chain(listed)
        .filter_map(Value::as_str)
    {
        ident(p, &mut out);
    }
    for hash in h
        .get("hashes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        for fh in hash
            .get("file_hashes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if str_at(fh, "algorithm").is_some_and(|a| a.eq_ignore_ascii_case("sha256")) {
                if let Some(d) = str_at(fh, "value").and_then(|x| digest(&format!("sha256:{x}"))) {
                    push_unique(&mut out, ProductRef::Digest(d));
                }
            }
        }
    }
    out
}

fn csaf_tree(tree: &Value) -> Result<HashMap<String, CsafProduct>, String> {
    let mut map: HashMap<String, CsafProduct> = HashMap::new();
    let mut add = |fpn: &Value, ptr: &str| -> Result<(), String> {
        let id = req_str(fpn, "product_id", ptr)?;
        map.insert(
            id.to_string(),
            CsafProduct {
                ids: csaf_ids(fpn),
                subs: vec![],
            },
        );
        Ok(())
    };
    let mut stack: Vec<(&Value, usize, String)> = Vec::new();
    for (i, b) in arr(tree, "branches", "/product_tree")?.iter().enumerate() {
        stack.push((b, 0, format!("/product_tree/branches/{i}")));
    }
    while let Some((b, depth, ptr)) = stack.pop() {
        if depth > MAX_TREE_DEPTH {
            return Err(format!(
                "{ptr}: branches nested deeper than {MAX_TREE_DEPTH}"
            ));
        }
        if let Some(p) = b.get("product").filter(|p| !p.is_null()) {
            add(p, &format!("{ptr}/product"))?;
        }
        for (i, sub) in arr(b, "branches", &ptr)?.iter().enumerate() {
            stack.push((sub, depth + 1, format!("{ptr}/branches/{i}")));
        }
    }
    for (i, f) in arr(tree, "full_product_names", "/product_tree")?
        .iter()
        .enumerate()
    {
        add(f, &format!("/product_tree/full_product_names/{i}"))?;
    }
    for (i, r) in arr(tree, "relationships", "/product_tree")?
        .iter()
        .enumerate()
    {
        let ptr = format!("/product_tree/relationships/{i}");
        let fpn = r.get("full_product_name").unwrap_or(&Value::Null);
        let id = req_str(fpn, "product_id", &format!("{ptr}/full_product_name"))?;
        let x = map
            .get(req_str(r, "product_reference", &ptr)?)
            .cloned()
            .unwrap_or_default();
        let y = map
            .get(req_str(r, "relates_to_product_reference", &ptr)?)
            .cloned();
        let mut p = match req_str(r, "category", &ptr)? {
            // X within Y: Y is the product, X the subcomponent.
            "default_component_of" | "optional_component_of" | "external_component_of" => {
                let mut subs = x.subs.clone();
                purls(&x.ids).for_each(|p| push_unique(&mut subs, p.clone()));
                let ids = if subs.is_empty() {
                    vec![]
                } else {
                    y.unwrap_or_default().ids
                };
                CsafProduct { ids, subs }
            }
            // X installed on/with Y: still X.
            _ => x,
        };
        csaf_ids(fpn)
            .into_iter()
            .for_each(|i| push_unique(&mut p.ids, i));
        map.insert(id.to_string(), p);
    }
    Ok(map)
}

/// product_ids plus the members of group_ids of a flag / threat / remediation.
fn csaf_targets<'a>(
    v: &'a Value,
    groups: &'a HashMap<String, Vec<String>>,
    ptr: &str,
) -> Result<Vec<String>, String> {
    let mut out = strings(v, "product_ids", ptr)?;
    for g in strings(v, "group_ids", ptr)? {
        out.extend(groups.get(&g).into_iter().flatten().cloned());
    }
    Ok(out)
}

pub(super) fn csaf(doc: &Value) -> Result<VexDocument, String> {
    let document = &doc["document"];
    let tracking = document.get("tracking").unwrap_or(&Value::Null);
    let doc_time = time(tracking, "current_release_date", "/document/tracking")?;
    let tree_v = doc.get("product_tree").unwrap_or(&Value::Null);
    let tree = csaf_tree(tree_v)?;
    let mut groups: HashMap<String, Vec<String>> = HashMap::new();
    for (i, g) in arr(tree_v, "product_groups", "/product_tree")?
        .iter()
        .enumerate()
    {
        let ptr = format!("/product_tree/product_groups/{i}");
        groups.insert(
            req_str(g, "group_id", &ptr)?.into(),
            strings(g, "product_ids", &ptr)?,
        );
    }
    const STATUSES: [(&str, VexStatus); 7] = [
        ("known_not_affected", VexStatus::NotAffected),
        ("known_affected", VexStatus::Affected),
        ("first_affected", VexStatus::Affected),
        ("last_affected", VexStatus::Affected),
        ("fixed", VexStatus::Fixed),
        ("first_fixed", VexStatus::Fixed),
        ("under_investigation", VexStatus::UnderInvestigation),
    ];
    let mut out = Vec::new();
    for (i, v) in arr(doc, "vulnerabilities", "")?.iter().enumerate() {
        let vptr = format!("/vulnerabilities/{i}");
        let mut names: Vec<String> = opt_str(v, "cve", &vptr)?
            .map(str::to_string)
            .into_iter()
            .collect();
        for (k, id) in arr(v, "ids", &vptr)?.iter().enumerate() {
            push_unique(
                &mut names,
                req_str(id, "text", &format!("{vptr}/ids/{k}"))?.to_string(),
            );
        }
        if names.is_empty() {
            return Err(format!(
                "{vptr}: neither `cve` nor `ids` names the vulnerability"
            ));
        }
        let vulnerability = names.remove(0);
        let mut flags: HashMap<String, (String, Option<DateTime<Utc>>)> = HashMap::new();
        for (k, f) in arr(v, "flags", &vptr)?.iter().enumerate() {
            let fptr = format!("{vptr}/flags/{k}");
            let label = req_str(f, "label", &fptr)?;
            let date = time(f, "date", &fptr)?;
            for p in csaf_targets(f, &groups, &fptr)? {
                flags.entry(p).or_insert((label.to_string(), date));
            }
        }
        // product id → texts of the threats / remediations naming it.
        let texts = |key: &str, only: Option<&str>| -> Result<HashMap<String, String>, String> {
            let mut m: HashMap<String, String> = HashMap::new();
            for (k, t) in arr(v, key, &vptr)?.iter().enumerate() {
                let tptr = format!("{vptr}/{key}/{k}");
                if only.is_some_and(|c| str_at(t, "category") != Some(c)) {
                    continue;
                }
                let Some(d) = opt_str(t, "details", &tptr)?.map(str::trim) else {
                    continue;
                };
                for p in csaf_targets(t, &groups, &tptr)? {
                    let e = m.entry(p).or_default();
                    if !e.split('\n').any(|x| x == d) {
                        if !e.is_empty() {
                            e.push('\n');
                        }
                        e.push_str(d);
                    }
                }
            }
            Ok(m)
        };
        let impacts = texts("threats", Some("impact"))?;
        let actions = texts("remediations", None)?;
        let released = time(v, "release_date", &vptr)?;
        let status_v = v.get("product_status").unwrap_or(&Value::Null);
        let mut seen = HashSet::new();
        for (key, status) in STATUSES {
            let sptr = format!("{vptr}/product_status");
            for (n, pid) in strings(status_v, key, &sptr)?.into_iter().enumerate() {
                if !seen.insert((status, pid.clone())) {
                    continue;
                }
                let p = tree.get(&pid).cloned().unwrap_or_default();
                let flag = flags.get(&pid);
                let s = VexStatement {
                    vulnerability: vulnerability.clone(),
                    aliases: names.clone(),
                    products: p.ids,
                    subcomponents: p.subs,
                    status,
                    justification: flag.map(|f| openvex_justification(&f.0)),
                    original_justification: flag.map(|f| f.0.clone()),
                    detail: impacts.get(&pid).cloned(),
                    action: actions.get(&pid).cloned(),
                    timestamp: flag.and_then(|f| f.1).or(released).or(doc_time),
                    pointer: format!("{sptr}/{key}/{n}"),
                };
                push(&mut out, s)?;
            }
        }
    }
    Ok(VexDocument {
        format: VexFormat::Csaf,
        id: str_at(tracking, "id").map(str::to_string),
        author: document
            .get("publisher")
            .and_then(|p| str_at(p, "name"))
            .map(str::to_string),
        statements: out,
    })
}
