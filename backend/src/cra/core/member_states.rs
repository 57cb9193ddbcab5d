//! The EU member states, by ISO 3166-1 alpha-2 code (Greece is `GR`, not
//! the EU's own `EL`).

pub const EU_MEMBER_STATES: [&str; 27] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// Checks and normalises a list of member states: upper-case ISO codes of
/// EU members, each once, sorted. The error names the first wrong entry.
pub fn parse(codes: &[String]) -> Result<Vec<String>, (usize, String)> {
    let mut out = Vec::with_capacity(codes.len());
    for (i, c) in codes.iter().enumerate() {
        let code = c.trim().to_ascii_uppercase();
        if !EU_MEMBER_STATES.contains(&code.as_str()) {
            let why = if code == "EL" {
                "Greece is GR in ISO 3166-1 (EL is the EU's own code)".to_string()
            } else {
                format!("{c:?} is not the ISO 3166-1 alpha-2 code of an EU member state")
            };
            return Err((i, why));
        }
        out.push(code);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_only_normalised() {
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(parse(&s(&["fr", "DE", "FR"])).unwrap(), ["DE", "FR"]);
        assert_eq!(parse(&[]).unwrap(), Vec::<String>::new());
        assert_eq!(parse(&s(&["DE", "GB"])).unwrap_err().0, 1);
        assert!(parse(&s(&["EL"])).unwrap_err().1.contains("GR"));
        assert!(parse(&s(&["US"])).is_err());
        assert!(parse(&s(&["CH"])).is_err(), "EFTA is not the EU");
        let mut sorted = EU_MEMBER_STATES;
        sorted.sort();
        assert_eq!(sorted, EU_MEMBER_STATES);
    }
}
