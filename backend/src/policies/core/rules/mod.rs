//! The built-in rule catalogue. Add a rule: implement `BuiltinRule` in a
//! file of this folder and list it in `CATALOGUE` below.

mod components;
mod fresh;
mod go_ci;
mod identity;
mod licenses;
mod sbom;
mod vulnerabilities;

pub use identity::slsa_level;

use super::BuiltinRule;

/// Every built-in rule, in catalogue order.
pub static CATALOGUE: &[&dyn BuiltinRule] = &[
    &sbom::SbomPresent,
    &identity::Signed,
    &identity::ProvenanceRule,
    &identity::EphemeralRunner,
    &licenses::Licenses,
    &components::Components,
    &fresh::EvidenceFresh,
    &go_ci::GoModulesVerified,
    &go_ci::GoReproducibleBuild,
    &go_ci::SbomMatchesBinary,
    &go_ci::WorkflowHardening,
    &go_ci::BaseImagePinned,
    &vulnerabilities::Vulnerabilities,
];

pub fn find_rule(id: &str) -> Option<&'static dyn BuiltinRule> {
    CATALOGUE.iter().copied().find(|r| r.id() == id)
}

/// Compares dotted versions numerically segment by segment (`1.10 > 1.9`);
/// a leading `v` is ignored; non-numeric segments compare as text.
pub(crate) fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let norm = |s: &str| -> Vec<String> {
        s.trim_start_matches(['v', 'V'])
            .split(['.', '-', '+'])
            .map(str::to_owned)
            .collect()
    };
    let (x, y) = (norm(a), norm(b));
    for i in 0..x.len().max(y.len()) {
        let (p, q) = (
            x.get(i).map(String::as_str).unwrap_or("0"),
            y.get(i).map(String::as_str).unwrap_or("0"),
        );
        let o = match (p.parse::<u64>(), q.parse::<u64>()) {
            (Ok(m), Ok(n)) => m.cmp(&n),
            _ => p.cmp(q),
        };
        if o != std::cmp::Ordering::Equal {
            return o;
        }
    }
    std::cmp::Ordering::Equal
}

pub(crate) use crate::domain::glob_match;

#[cfg(test)]
pub(crate) mod tests;
