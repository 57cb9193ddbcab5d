//! CI definition uploads (`POST /api/v1/ci-definitions`,
//! `ci::service::ingest_ci_definition`): `ci::core::detect` (from a file name, and
//! from the content alone) and `ci::core::check` with the default
//! `HardeningParams` for every kind — GitHub Actions workflow, GitLab CI,
//! Dockerfile — whatever the detection says, since the uploader may name
//! the kind. Also the YAML tree reader and the Go verification-switch scan
//! the policy rules run on stored definitions.
#![no_main]

use std::sync::OnceLock;

use cairn::ci::core::{self as cidef, HardeningParams, Kind};
use libfuzzer_sys::fuzz_target;

const KINDS: [Kind; 3] = [Kind::GithubWorkflow, Kind::GitlabCi, Kind::Dockerfile];

fn params() -> &'static HardeningParams {
    static P: OnceLock<HardeningParams> = OnceLock::new();
    P.get_or_init(HardeningParams::default)
}

fuzz_target!(|data: &[u8]| {
    // The upload refuses larger bodies and non-UTF-8 text.
    if data.len() > cidef::MAX_DEFINITION {
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = cidef::detect(None, text);
    for name in [
        ".github/workflows/release.yml",
        ".gitlab-ci.yml",
        "Dockerfile",
    ] {
        let _ = cidef::detect(Some(name), text);
    }
    let _ = cidef::yaml::parse(text);
    for kind in KINDS {
        let _ = cidef::check(kind, kind.default_file(), text, params());
    }
    let _ = cairn::go::core::verification_switches(text);
});
