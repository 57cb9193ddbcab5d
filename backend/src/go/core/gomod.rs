//! `go.mod` and `go.sum` of the built module: what was required, replaced,
//! excluded and retracted, and which hashes go.sum pins.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The largest go.mod or go.sum read (a large monorepo's go.sum is a few MB).
pub const MAX_MODULE_FILE: usize = 16 << 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Requirement {
    pub path: String,
    pub version: String,
    /// Marked `// indirect`.
    pub indirect: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Replace {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub new_path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_version: Option<String>,
    /// The replacement is a directory on the build machine (`./x`, `../x`, `/x`).
    pub local_path: bool,
    /// The replacement is another module path (a fork).
    pub fork: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GoMod {
    pub module: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub go: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub toolchain: Option<String>,
    pub require: Vec<Requirement>,
    pub replace: Vec<Replace>,
    /// `path version` pairs.
    pub exclude: Vec<(String, String)>,
    /// Retracted versions or `[low, high]` ranges, as written.
    pub retract: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SumEntry {
    pub path: String,
    /// Version, with `/go.mod` when the hash covers only the go.mod file.
    pub version: String,
    pub hash: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("line {line}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

fn err(line: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        line,
        message: message.into(),
    }
}

fn unquote(s: &str) -> String {
    s.trim_matches(|c| c == '"' || c == '`').to_owned()
}

fn fields(s: &str) -> Vec<String> {
    s.split_whitespace().map(unquote).collect()
}

pub fn is_local_path(p: &str) -> bool {
    p.starts_with("./") || p.starts_with("../") || p.starts_with('/') || p == "." || p == ".."
        // Windows drive paths.
        || p.as_bytes().get(1) == Some(&b':')
}

/// Parses a go.mod file (the subset the Go toolchain writes).
pub fn parse_go_mod(text: &str) -> Result<GoMod, ParseError> {
    let mut m = GoMod::default();
    let mut block: Option<String> = None;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let (code, comment) = match raw.find("//") {
            Some(at) => (&raw[..at], raw[at + 2..].trim()),
            None => (raw, ""),
        };
        let code = code.trim();
        if code.is_empty() {
            continue;
        }
        let (verb, rest) = match &block {
            Some(_) if code == ")" => {
                block = None;
                continue;
            }
            Some(b) => (b.clone(), code.to_owned()),
            None => {
                let (v, r) = code.split_once(char::is_whitespace).unwrap_or((code, ""));
                let r = r.trim();
                if r == "(" {
                    block = Some(v.to_owned());
                    continue;
                }
                (v.to_owned(), r.to_owned())
            }
        };
        let f = fields(&rest);
        match verb.as_str() {
            "module" => {
                m.module = f
                    .first()
                    .cloned()
                    .ok_or_else(|| err(n, "module without a path"))?
            }
            "go" => m.go = f.first().cloned(),
            "toolchain" => m.toolchain = f.first().cloned(),
            "godebug" | "tool" | "ignore" => {}
            "require" => match f.as_slice() {
                [p, v] => m.require.push(Requirement {
                    path: p.clone(),
                    version: v.clone(),
                    indirect: comment.split(';').any(|c| c.trim() == "indirect"),
                }),
                _ => return Err(err(n, "require needs a module path and a version")),
            },
            "exclude" => match f.as_slice() {
                [p, v] => m.exclude.push((p.clone(), v.clone())),
                _ => return Err(err(n, "exclude needs a module path and a version")),
            },
            "retract" => m.retract.push(rest.clone()),
            "replace" => {
                let arrow = f
                    .iter()
                    .position(|x| x == "=>")
                    .ok_or_else(|| err(n, "replace without =>"))?;
                let (old, new) = (&f[..arrow], &f[arrow + 1..]);
                let (path, version) = match old {
                    [p] => (p.clone(), None),
                    [p, v] => (p.clone(), Some(v.clone())),
                    _ => return Err(err(n, "replace: malformed module before =>")),
                };
                let (new_path, new_version) = match new {
                    [p] => (p.clone(), None),
                    [p, v] => (p.clone(), Some(v.clone())),
                    _ => return Err(err(n, "replace: malformed module after =>")),
                };
                let local_path = is_local_path(&new_path);
                if !local_path && new_version.is_none() {
                    return Err(err(n, "replace: a module replacement needs a version"));
                }
                m.replace.push(Replace {
                    fork: !local_path && new_path != path,
                    path,
                    version,
                    new_path,
                    new_version,
                    local_path,
                });
            }
            other => return Err(err(n, format!("unknown directive {other:?}"))),
        }
    }
    if block.is_some() {
        return Err(err(text.lines().count(), "unclosed ( block"));
    }
    if m.module.is_empty() {
        return Err(err(1, "no module directive: not a go.mod file"));
    }
    Ok(m)
}

/// Parses go.sum: `path version[/go.mod] h1:<base64>=` lines.
pub fn parse_go_sum(text: &str) -> Result<Vec<SumEntry>, ParseError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.as_slice() {
            [] => {}
            [p, v, h] if h.contains(':') => out.push(SumEntry {
                path: (*p).to_owned(),
                version: (*v).to_owned(),
                hash: (*h).to_owned(),
            }),
            _ => return Err(err(i + 1, "a go.sum line is `path version hash`")),
        }
    }
    if out.is_empty() {
        return Err(err(1, "go.sum holds no entries"));
    }
    Ok(out)
}

/// Requirements go.sum does not pin (neither the module nor its go.mod).
pub fn unsummed<'a>(m: &'a GoMod, sums: &[SumEntry]) -> Vec<&'a Requirement> {
    // (path, version) pinned, a `version/go.mod` line counting for `version`:
    // built once, so each requirement is one lookup.
    let pinned: HashSet<(&str, &str)> = sums
        .iter()
        .flat_map(|s| {
            let go_mod = s.version.strip_suffix("/go.mod");
            std::iter::once((s.path.as_str(), s.version.as_str()))
                .chain(go_mod.map(|v| (s.path.as_str(), v)))
        })
        .collect();
    m.require
        .iter()
        .filter(|r| !pinned.contains(&(r.path.as_str(), r.version.as_str())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_mod_with_replacements() {
        let m = parse_go_mod(
            "module example.com/app\n\ngo 1.22\ntoolchain go1.22.3\n\nrequire (\n\tgithub.com/pkg/errors v0.9.1\n\tgolang.org/x/text v0.14.0 // indirect\n)\n\nreplace github.com/pkg/errors => github.com/acme/errors v0.9.2\nreplace example.com/lib v1.0.0 => ../lib\nexclude golang.org/x/net v0.1.0\nretract [v1.0.0, v1.0.5] // broken\n",
        )
        .unwrap();
        assert_eq!(m.module, "example.com/app");
        assert_eq!(m.toolchain.as_deref(), Some("go1.22.3"));
        assert_eq!(m.require.len(), 2);
        assert!(m.require[1].indirect);
        assert!(m.replace[0].fork && !m.replace[0].local_path);
        assert!(m.replace[1].local_path && !m.replace[1].fork);
        assert_eq!(m.exclude.len(), 1);
        assert_eq!(m.retract, vec!["[v1.0.0, v1.0.5]"]);
        assert!(parse_go_mod("hello\n").is_err());
    }

    #[test]
    fn go_sum_coverage() {
        let m = parse_go_mod("module a\nrequire (\n b v1.0.0\n c v2.0.0\n)\n").unwrap();
        let s = parse_go_sum("b v1.0.0 h1:x=\nb v1.0.0/go.mod h1:y=\n").unwrap();
        let missing = unsummed(&m, &s);
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].path, "c");
        assert!(parse_go_sum("garbage\n").is_err());
    }

    #[test]
    fn go_sum_coverage_at_scale() {
        // 10 000 requirements against 35 000 go.sum lines: once 3.5e8
        // comparisons, each formatting a string.
        let n = 10_000;
        let mut go_mod = String::from("module a\nrequire (\n");
        let mut go_sum = String::new();
        for i in 0..n {
            go_mod.push_str(&format!(" m{i} v1.0.{i}\n"));
            // Every other one pinned only by its go.mod hash; the last not at all.
            if i + 1 < n {
                go_sum.push_str(&format!("m{i} v1.0.{i}/go.mod h1:y=\n"));
            }
            if i % 2 == 0 {
                go_sum.push_str(&format!("m{i} v1.0.{i} h1:x=\n"));
            }
            // Same path, another version; same version, another path.
            go_sum.push_str(&format!("m{i} v2.0.{i} h1:z=\nn{i} v1.0.{i} h1:z=\n"));
        }
        go_mod.push_str(")\n");
        let m = parse_go_mod(&go_mod).unwrap();
        let s = parse_go_sum(&go_sum).unwrap();
        let missing: Vec<&str> = unsummed(&m, &s).iter().map(|r| r.path.as_str()).collect();
        assert_eq!(missing, [format!("m{}", n - 1)]);
        // A `/go.mod` requirement is pinned only by a `/go.mod/go.mod` line.
        let odd = GoMod {
            require: vec![Requirement {
                path: "b".into(),
                version: "v1/go.mod".into(),
                indirect: false,
            }],
            ..GoMod::default()
        };
        assert_eq!(
            unsummed(&odd, &parse_go_sum("b v1 h1:x=\n").unwrap()).len(),
            1
        );
        assert!(unsummed(&odd, &parse_go_sum("b v1/go.mod/go.mod h1:x=\n").unwrap()).is_empty());
    }
}
