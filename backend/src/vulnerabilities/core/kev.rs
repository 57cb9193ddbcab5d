//! The CISA Known Exploited Vulnerabilities catalog (its JSON feed,
//! schema in tests/fixtures/kev/). A vulnerability is known exploited when
//! its id or one of its aliases is a catalog `cveID`.

use chrono::NaiveDate;
use serde::Deserialize;

#[derive(Debug, Clone, PartialEq)]
pub struct KevEntry {
    pub cve_id: String,
    pub vendor_project: String,
    pub product: String,
    pub name: String,
    pub date_added: NaiveDate,
    pub due_date: Option<NaiveDate>,
    /// `Known` or `Unknown`, as CISA writes it.
    pub known_ransomware_campaign_use: Option<String>,
    pub required_action: Option<String>,
    pub short_description: Option<String>,
    pub notes: Option<String>,
    pub cwes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    pub version: Option<String>,
    pub released: Option<String>,
    pub entries: Vec<KevEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCatalog {
    catalog_version: Option<String>,
    date_released: Option<String>,
    vulnerabilities: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntry {
    #[serde(rename = "cveID")]
    cve_id: String,
    #[serde(default)]
    vendor_project: String,
    #[serde(default)]
    product: String,
    #[serde(default)]
    vulnerability_name: String,
    date_added: String,
    due_date: Option<String>,
    known_ransomware_campaign_use: Option<String>,
    required_action: Option<String>,
    short_description: Option<String>,
    notes: Option<String>,
    #[serde(default)]
    cwes: Vec<String>,
}

/// Reads the catalog; the first malformed entry is named in the error (the
/// catalog is one published document: a broken one is refused whole).
pub fn parse(json: &[u8]) -> Result<Catalog, String> {
    let raw: RawCatalog = serde_json::from_slice(json).map_err(|e| {
        format!("not a CISA KEV catalog (expected an object with `vulnerabilities`): {e}")
    })?;
    let mut entries = Vec::with_capacity(raw.vulnerabilities.len());
    for (i, e) in raw.vulnerabilities.into_iter().enumerate() {
        let at = |what: &str| format!("vulnerabilities[{i}] ({}): {what}", e.cve_id);
        if !is_cve(&e.cve_id) {
            return Err(format!(
                "vulnerabilities[{i}]: cveID {:?} is not a CVE id",
                e.cve_id
            ));
        }
        let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d");
        let date_added = date(&e.date_added).map_err(|_| at("dateAdded is not YYYY-MM-DD"))?;
        let due_date = match e.due_date.as_deref() {
            None | Some("") => None,
            Some(s) => Some(date(s).map_err(|_| at("dueDate is not YYYY-MM-DD"))?),
        };
        entries.push(KevEntry {
            cve_id: e.cve_id,
            vendor_project: e.vendor_project,
            product: e.product,
            name: e.vulnerability_name,
            date_added,
            due_date,
            known_ransomware_campaign_use: e.known_ransomware_campaign_use,
            required_action: e.required_action,
            short_description: e.short_description,
            notes: e.notes.filter(|n| !n.trim().is_empty()),
            cwes: e.cwes,
        });
    }
    Ok(Catalog {
        version: raw.catalog_version,
        released: raw.date_released,
        entries,
    })
}

/// `CVE-YYYY-NNNN…`.
pub fn is_cve(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("CVE-") else {
        return false;
    };
    let Some((year, num)) = rest.split_once('-') else {
        return false;
    };
    year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && (4..=19).contains(&num.len())
        && num.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_real_catalog() {
        let path = format!(
            "{}/../tests/fixtures/kev/cisagov-kev-data__known_exploited_vulnerabilities.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let c = parse(&std::fs::read(path).unwrap()).unwrap();
        assert_eq!(c.version.as_deref(), Some("2025.08.25"));
        assert_eq!(c.entries.len(), 1404);
        let git = &c.entries[0];
        assert_eq!(git.cve_id, "CVE-2025-48384");
        assert_eq!(
            git.date_added,
            NaiveDate::from_ymd_opt(2025, 8, 25).unwrap()
        );
        assert_eq!(git.due_date, NaiveDate::from_ymd_opt(2025, 9, 15));
        assert!(git.short_description.as_deref().unwrap().contains("Git"));
        assert!(git.notes.is_some() && !git.cwes.is_empty(), "{git:?}");
    }

    #[test]
    fn malformed_catalogs_name_the_entry() {
        let e = parse(br#"{"vulnerabilities":[{"cveID":"CVE-2024-1234","dateAdded":"soon"}]}"#)
            .unwrap_err();
        assert!(
            e.contains("vulnerabilities[0] (CVE-2024-1234): dateAdded"),
            "{e}"
        );
        let e = parse(br#"{"vulnerabilities":[{"cveID":"GHSA-1","dateAdded":"2024-01-01"}]}"#)
            .unwrap_err();
        assert!(e.contains("not a CVE id"), "{e}");
        assert!(parse(b"[]").is_err());
        assert!(is_cve("CVE-2021-44228") && !is_cve("CVE-21-1") && !is_cve("CVE-2021-12"));
    }
}
