//! in-toto statements and the SLSA provenance fields Cairn keeps (v0.2 and
//! v1). Any other predicate type is kept as-is: only its subjects are read.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

pub const SLSA_V02: &str = "https://slsa.dev/provenance/v0.2";
pub const SLSA_V1: &str = "https://slsa.dev/provenance/v1";
/// The in-toto statement `_type`s Cairn reads (same layout in both).
pub const STATEMENT_TYPES: [&str; 2] = [
    "https://in-toto.io/Statement/v0.1",
    "https://in-toto.io/Statement/v1",
];

/// A subject of an in-toto statement (or the digest a plain signature
/// covers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Subject {
    /// Name in the statement (file name, image reference); absent for a
    /// plain signature.
    pub name: Option<String>,
    /// `sha256:<hex>` (or `<algorithm>:<hex>` when the statement has no
    /// sha256 digest for this subject).
    pub digest: String,
}

/// What the statement says, as far as Cairn reads it.
#[derive(Debug, Clone)]
pub struct Statement {
    pub predicate_type: String,
    pub subjects: Vec<Subject>,
    pub provenance: Option<Provenance>,
}

/// A resolved dependency (SLSA v1 `resolvedDependencies`, v0.2 `materials`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Dependency {
    pub uri: Option<String>,
    /// `{"sha1": "...", "gitCommit": "..."}` as in the document.
    #[schema(value_type = Object)]
    pub digest: Value,
}

/// The fields of SLSA provenance that place a build in the chain of custody.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Provenance {
    /// `https://slsa.dev/provenance/v0.2` or `.../v1`.
    pub slsa_version: String,
    /// Who built it (`builder.id`), e.g. the slsa-github-generator workflow.
    pub builder_id: Option<String>,
    pub build_type: Option<String>,
    /// Source repository (without the `git+` prefix and `@ref` suffix).
    pub source_repository: Option<String>,
    /// Source commit (git SHA-1 or SHA-256).
    pub source_commit: Option<String>,
    pub source_ref: Option<String>,
    /// Workflow file or entry point.
    pub entry_point: Option<String>,
    /// The CI run: invocation id (v1 `runDetails.metadata.invocationId`,
    /// v0.2 `metadata.buildInvocationId`).
    pub invocation_id: Option<String>,
    /// Build parameters (v1 `externalParameters`, v0.2 `invocation.parameters`).
    #[schema(value_type = Object)]
    pub parameters: Value,
    pub resolved_dependencies: Vec<Dependency>,
}

/// Parses an in-toto statement (v0.1 or v1). `Err` says what is wrong.
pub fn parse(payload: &[u8]) -> Result<Statement, String> {
    let doc: Value = serde_json::from_slice(payload)
        .map_err(|e| format!("the DSSE payload is not a JSON in-toto statement: {e}"))?;
    let kind = doc.get("_type").and_then(Value::as_str).unwrap_or("");
    if !STATEMENT_TYPES.contains(&kind) {
        // An unknown version may mean something else: never read it as v1
        // (sigstore-conformance dsse-statement-unknown-type_fail).
        let what = if kind.starts_with("https://in-toto.io/Statement/") {
            "an in-toto statement of a version Cairn does not know (v0.1 and v1 are read)"
        } else {
            "an in-toto statement"
        };
        return Err(format!("the DSSE payload is not {what} (_type {kind:?})"));
    }
    let predicate_type = doc
        .get("predicateType")
        .and_then(Value::as_str)
        .ok_or("the in-toto statement has no predicateType")?
        .to_owned();
    let raw_subjects = doc
        .get("subject")
        .and_then(Value::as_array)
        .ok_or("the in-toto statement has no subject list")?;
    let mut subjects = Vec::with_capacity(raw_subjects.len());
    for (i, s) in raw_subjects.iter().enumerate() {
        let digests = s
            .get("digest")
            .and_then(Value::as_object)
            .ok_or_else(|| format!("subject {i} has no digest"))?;
        let digest = match digests.get("sha256").and_then(Value::as_str) {
            Some(hex) if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                format!("sha256:{}", hex.to_ascii_lowercase())
            }
            Some(hex) => return Err(format!("subject {i} has an invalid sha256 digest {hex:?}")),
            None => {
                let (alg, v) = digests
                    .iter()
                    .next()
                    .ok_or_else(|| format!("subject {i} has an empty digest"))?;
                format!("{alg}:{}", v.as_str().unwrap_or_default())
            }
        };
        subjects.push(Subject {
            name: s.get("name").and_then(Value::as_str).map(str::to_owned),
            digest,
        });
    }
    if subjects.is_empty() {
        return Err("the in-toto statement has no subjects".into());
    }
    let predicate = doc.get("predicate").cloned().unwrap_or(Value::Null);
    let provenance = match predicate_type.as_str() {
        SLSA_V02 => Some(slsa_v02(&predicate)),
        SLSA_V1 => Some(slsa_v1(&predicate)),
        _ => None,
    };
    Ok(Statement {
        predicate_type,
        subjects,
        provenance,
    })
}

fn text(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// `git+https://github.com/o/r@refs/heads/main` → (`https://github.com/o/r`, `refs/heads/main`).
fn split_git_uri(uri: &str) -> (String, Option<String>) {
    let uri = uri.strip_prefix("git+").unwrap_or(uri);
    match uri.rsplit_once('@') {
        Some((repo, r)) if !repo.ends_with(':') && !r.contains('/') || r.starts_with("refs/") => {
            (repo.to_owned(), Some(r.to_owned()))
        }
        _ => (uri.to_owned(), None),
    }
}

fn dependencies(list: Option<&Value>) -> Vec<Dependency> {
    list.and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|d| Dependency {
                    uri: d.get("uri").and_then(Value::as_str).map(str::to_owned),
                    digest: d.get("digest").cloned().unwrap_or(Value::Null),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn commit_of(digest: &Value) -> Option<String> {
    ["gitCommit", "sha1", "sha256"]
        .iter()
        .find_map(|k| digest.get(k).and_then(Value::as_str))
        .map(str::to_owned)
}

fn slsa_v02(p: &Value) -> Provenance {
    let config_uri = text(p, "/invocation/configSource/uri");
    let (source_repository, source_ref) = match &config_uri {
        Some(uri) => {
            let (repo, r) = split_git_uri(uri);
            (Some(repo), r)
        }
        None => (None, None),
    };
    let source_commit = p
        .pointer("/invocation/configSource/digest")
        .and_then(commit_of);
    // slsa-github-generator: the run id is in the environment.
    let invocation_id = text(p, "/metadata/buildInvocationId").or_else(|| {
        let run = text(p, "/invocation/environment/github_run_id")?;
        let attempt = text(p, "/invocation/environment/github_run_attempt");
        Some(match attempt {
            Some(a) => format!("{run}-{a}"),
            None => run,
        })
    });
    Provenance {
        slsa_version: SLSA_V02.into(),
        builder_id: text(p, "/builder/id"),
        build_type: text(p, "/buildType"),
        source_repository,
        source_commit,
        source_ref,
        entry_point: text(p, "/invocation/configSource/entryPoint"),
        invocation_id,
        parameters: p
            .pointer("/invocation/parameters")
            .cloned()
            .unwrap_or(Value::Null),
        resolved_dependencies: dependencies(p.get("materials")),
    }
}

fn slsa_v1(p: &Value) -> Provenance {
    let deps = dependencies(p.pointer("/buildDefinition/resolvedDependencies"));
    let ext = p
        .pointer("/buildDefinition/externalParameters")
        .cloned()
        .unwrap_or(Value::Null);
    // GitHub workflow build type: externalParameters.workflow.{repository,ref,path}.
    let mut source_repository = text(&ext, "/workflow/repository");
    let mut source_ref = text(&ext, "/workflow/ref");
    let mut source_commit = None;
    // The first git dependency is the source.
    if let Some(dep) = deps
        .iter()
        .find(|d| d.uri.as_deref().is_some_and(|u| u.starts_with("git+")))
    {
        let (repo, r) = split_git_uri(dep.uri.as_deref().unwrap_or_default());
        source_repository.get_or_insert(repo);
        if source_ref.is_none() {
            source_ref = r;
        }
        source_commit = commit_of(&dep.digest);
    }
    Provenance {
        slsa_version: SLSA_V1.into(),
        builder_id: text(p, "/runDetails/builder/id"),
        build_type: text(p, "/buildDefinition/buildType"),
        source_repository,
        source_commit,
        source_ref,
        entry_point: text(&ext, "/workflow/path"),
        invocation_id: text(p, "/runDetails/metadata/invocationId"),
        parameters: ext,
        resolved_dependencies: deps,
    }
}

/// The GitHub Actions run an invocation id names:
/// `https://github.com/o/r/actions/runs/123/attempts/1` → 123.
pub fn github_run_id(invocation: &str) -> Option<i64> {
    let rest = invocation.split("/actions/runs/").nth(1)?;
    rest.split('/').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_run_ids_are_read_from_run_urls() {
        let id = github_run_id;
        assert_eq!(
            id("https://github.com/o/r/actions/runs/14095611671/attempts/1"),
            Some(14095611671)
        );
        assert_eq!(id("https://github.com/o/r/actions/runs/123"), Some(123));
        assert_eq!(id("https://github.com/o/r/actions/runs/x"), None);
        assert_eq!(id("https://example.com"), None);
    }

    #[test]
    fn git_uris() {
        assert_eq!(
            split_git_uri("git+https://github.com/o/r@refs/heads/main"),
            (
                "https://github.com/o/r".to_owned(),
                Some("refs/heads/main".to_owned())
            )
        );
        assert_eq!(
            split_git_uri("https://github.com/o/r"),
            ("https://github.com/o/r".to_owned(), None)
        );
    }

    #[test]
    fn rejects_non_statements() {
        assert!(parse(b"{}").unwrap_err().contains("_type"));
        assert!(parse(b"nope").unwrap_err().contains("not a JSON"));
        let no_subjects =
            br#"{"_type":"https://in-toto.io/Statement/v1","predicateType":"x","subject":[]}"#;
        assert!(parse(no_subjects).unwrap_err().contains("no subjects"));
    }

    #[test]
    fn only_known_statement_types() {
        let st = |t: &str| {
            format!(
                r#"{{{t}"predicateType":"x","subject":[{{"name":"a","digest":{{"sha256":"{}"}}}}]}}"#,
                "a".repeat(64)
            )
        };
        for known in STATEMENT_TYPES {
            let doc = st(&format!(r#""_type":"{known}","#));
            assert!(parse(doc.as_bytes()).is_ok(), "{known}");
        }
        // A future or made-up version is not read as v1; nor is a missing
        // or foreign _type.
        for t in [
            r#""_type":"https://in-toto.io/Statement/v2","#,
            r#""_type":"https://in-toto.io/Statement/v1/","#,
            r#""_type":"https://in-toto.io/Statement/v1.1","#,
            r#""_type":"https://example.com/Statement/v1","#,
            "",
        ] {
            let err = parse(st(t).as_bytes()).unwrap_err();
            assert!(err.contains("not an in-toto statement"), "{t}: {err}");
        }
        let err =
            parse(st(r#""_type":"https://in-toto.io/Statement/v2","#).as_bytes()).unwrap_err();
        assert!(err.contains("version"), "{err}");
    }
}
