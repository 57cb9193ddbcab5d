//! Dockerfile hardening: every `FROM` pinned by digest, the final stage on
//! an allowed minimal base, running as a non-root user.

use std::collections::HashMap;

use super::{has_digest, CiError, Finding, Findings, HardeningParams};
use crate::domain::glob_match;

pub const RULE: &str = "base-image-pinned";

/// One logical instruction: keyword, arguments, first line.
fn instructions(text: &str) -> Vec<(String, String, usize)> {
    let mut out = Vec::new();
    let mut cur: Option<(String, usize)> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end();
        let trimmed = line.trim_start();
        if cur.is_none() && (trimmed.is_empty() || trimmed.starts_with('#')) {
            continue;
        }
        if cur.is_some() && trimmed.starts_with('#') {
            continue;
        }
        let (body, cont) = match line.strip_suffix('\\') {
            Some(b) => (b, true),
            None => (line, false),
        };
        let entry = cur.get_or_insert_with(|| (String::new(), i + 1));
        entry.0.push_str(body.trim());
        entry.0.push(' ');
        if !cont {
            let (text, at) = cur.take().expect("set above");
            let text = text.trim().to_owned();
            let (kw, args) = text.split_once(char::is_whitespace).unwrap_or((&text, ""));
            out.push((kw.to_ascii_uppercase(), args.trim().to_owned(), at));
        }
    }
    if let Some((text, at)) = cur {
        let text = text.trim().to_owned();
        let (kw, args) = text.split_once(char::is_whitespace).unwrap_or((&text, ""));
        out.push((kw.to_ascii_uppercase(), args.trim().to_owned(), at));
    }
    out
}

/// The longest image reference [`substitute`] produces. A real one is far
/// shorter (Docker allows 255 bytes of name, a 128-byte tag and a digest);
/// without a cap `ARG X=<512 KB>` and `FROM $X$X$X…` would expand to
/// gigabytes.
const MAX_SUBSTITUTED: usize = 4 * 1024;

/// Why a `FROM` reference could not be resolved.
#[derive(Debug, PartialEq, Eq)]
enum Unresolved {
    /// A variable without a value (or an unclosed `${`).
    NoValue,
    /// The result would be longer than [`MAX_SUBSTITUTED`].
    TooLong,
}

/// Substitutes `$X`, `${X}`, `${X:-default}`.
fn substitute(s: &str, args: &HashMap<String, String>) -> Result<String, Unresolved> {
    let mut out = String::new();
    let mut rest = s;
    let push = |out: &mut String, piece: &str| {
        if out.len() + piece.len() > MAX_SUBSTITUTED {
            return Err(Unresolved::TooLong);
        }
        out.push_str(piece);
        Ok(())
    };
    while let Some(at) = rest.find('$') {
        push(&mut out, &rest[..at])?;
        let after = &rest[at + 1..];
        let (expr, used) = if let Some(b) = after.strip_prefix('{') {
            let end = b.find('}').ok_or(Unresolved::NoValue)?;
            (&b[..end], end + 2)
        } else {
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            (&after[..end], end)
        };
        let (name, default) = match expr.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (expr, None),
        };
        match args
            .get(name)
            .filter(|v| !v.is_empty())
            .map(String::as_str)
            .or(default)
        {
            Some(v) => push(&mut out, v)?,
            None => return Err(Unresolved::NoValue),
        }
        rest = &after[used..];
    }
    push(&mut out, rest)?;
    Ok(out)
}

/// The image name without tag or digest (`gcr.io/distroless/static`).
pub fn image_name(image: &str) -> &str {
    let no_digest = image.split('@').next().unwrap_or(image);
    match no_digest.rfind(':') {
        Some(c) if !no_digest[c..].contains('/') => &no_digest[..c],
        _ => no_digest,
    }
}

struct Stage {
    /// Resolved image reference, or the earlier stage's name.
    base: String,
    /// Index of the earlier stage this one builds on.
    parent: Option<usize>,
    name: Option<String>,
    line: usize,
    user: Option<(String, usize)>,
}

pub fn check(file: &str, text: &str, params: &HardeningParams) -> Result<Vec<Finding>, CiError> {
    let ins = instructions(text);
    let mut global_args: HashMap<String, String> = HashMap::new();
    let mut stages: Vec<Stage> = Vec::new();
    // Stage name -> index of its first definition (what `FROM <name>` builds on).
    let mut stage_index: HashMap<&str, usize> = HashMap::new();
    let mut out = Findings::default();
    let push = |out: &mut Findings,
                check: &str,
                line: usize,
                job: Option<String>,
                message: String,
                fix: String| {
        out.push(Finding {
            rule: RULE.into(),
            check: check.into(),
            file: file.into(),
            line,
            job,
            step: None,
            message,
            fix,
        });
    };
    for (kw, args, line) in &ins {
        match kw.as_str() {
            "ARG" if stages.is_empty() => {
                for a in args.split_whitespace() {
                    let (k, v) = a.split_once('=').unwrap_or((a, ""));
                    global_args.insert(k.to_owned(), v.trim_matches('"').to_owned());
                }
            }
            "FROM" => {
                let words: Vec<&str> = args
                    .split_whitespace()
                    .filter(|w| !w.starts_with("--"))
                    .collect();
                let Some(raw) = words.first() else {
                    return Err(CiError::Invalid {
                        line: *line,
                        message: "FROM without an image".into(),
                    });
                };
                let name_ref = match words.as_slice() {
                    [_, as_kw, n] if as_kw.eq_ignore_ascii_case("as") => Some(*n),
                    _ => None,
                };
                let name = name_ref.map(str::to_owned);
                let stage_label = name
                    .clone()
                    .unwrap_or_else(|| format!("stage {}", stages.len()));
                let resolved = substitute(raw, &global_args);
                let parent = resolved
                    .as_deref()
                    .ok()
                    .and_then(|r| stage_index.get(r).copied());
                match (&resolved, parent) {
                    (_, Some(_)) => {}
                    (Err(Unresolved::NoValue), _) => push(
                        &mut out,
                        "unresolved-base",
                        *line,
                        Some(stage_label.clone()),
                        format!("`FROM {raw}` uses a build argument without a default, so the base image cannot be checked"),
                        "give the ARG a default that is pinned by digest, e.g. ARG BASE=image:tag@sha256:<digest>".into(),
                    ),
                    (Err(Unresolved::TooLong), _) => push(
                        &mut out,
                        "unresolved-base",
                        *line,
                        Some(stage_label.clone()),
                        format!("`FROM {raw}` expands to more than {MAX_SUBSTITUTED} bytes, so the base image cannot be checked"),
                        "name the base image directly, pinned by digest: FROM image:tag@sha256:<digest>".into(),
                    ),
                    (Ok(r), None) if r == "scratch" || has_digest(r) => {}
                    (Ok(r), None) => push(
                        &mut out,
                        "unpinned-base",
                        *line,
                        Some(stage_label.clone()),
                        format!("`FROM {r}` is not pinned by digest; the tag can be moved to another image"),
                        format!("FROM {}@sha256:<digest>  (`docker buildx imagetools inspect {r}` prints it)", r.split('@').next().unwrap_or(r)),
                    ),
                }
                if let Some(n) = name_ref {
                    stage_index.entry(n).or_insert(stages.len());
                }
                stages.push(Stage {
                    base: resolved.unwrap_or_else(|_| raw.to_string()),
                    parent,
                    name,
                    line: *line,
                    user: None,
                });
            }
            "USER" => {
                if let Some(s) = stages.last_mut() {
                    s.user = Some((args.clone(), *line));
                }
            }
            _ => {}
        }
    }
    let Some(last) = stages.len().checked_sub(1) else {
        return Err(CiError::Invalid {
            line: 1,
            message: "no FROM instruction: not a Dockerfile".into(),
        });
    };
    // The final stage's root image and effective user.
    let mut i = last;
    let mut user = stages[last].user.clone();
    while let Some(p) = stages[i].parent {
        i = p;
        if user.is_none() {
            user = stages[i].user.clone();
        }
    }
    let root = &stages[i].base;
    let final_label = stages[last]
        .name
        .clone()
        .unwrap_or_else(|| format!("stage {last}"));
    let name = image_name(root);
    if !params
        .allowed_final_bases
        .iter()
        .any(|p| glob_match(p, name))
    {
        push(
            &mut out,
            "final-base-not-minimal",
            stages[last].line,
            Some(final_label.clone()),
            format!("the final stage is based on `{name}`, not an allowed minimal base ({})", params.allowed_final_bases.join(", ")),
            "copy the build output into a minimal final stage, e.g. `FROM gcr.io/distroless/static-debian12:nonroot@sha256:<digest>` or `FROM scratch`".into(),
        );
    }
    let nonroot_base = root.contains(":nonroot");
    match user {
        Some((u, line)) => {
            let who = u.split(':').next().unwrap_or_default();
            if who == "root" || who == "0" {
                push(
                    &mut out,
                    "runs-as-root",
                    line,
                    Some(final_label),
                    format!("the final stage runs as `USER {u}`"),
                    "USER 65532:65532  (or `USER nonroot` on distroless)".into(),
                );
            }
        }
        None if !nonroot_base => push(
            &mut out,
            "runs-as-root",
            stages[last].line,
            Some(final_label),
            "the final stage sets no USER, so the container runs as root".into(),
            "add `USER 65532:65532` to the final stage (or use a `:nonroot` distroless base)"
                .into(),
        ),
        None => {}
    }
    Ok(out.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args_and_names() {
        let mut a = HashMap::new();
        a.insert("GO".to_owned(), "1.22".to_owned());
        assert_eq!(
            substitute("golang:${GO}-alpine", &a).as_deref(),
            Ok("golang:1.22-alpine")
        );
        assert_eq!(substitute("x:${NOPE:-1}", &a).as_deref(), Ok("x:1"));
        assert_eq!(substitute("x:$NOPE", &a), Err(Unresolved::NoValue));
        assert_eq!(
            image_name("gcr.io/distroless/static:nonroot@sha256:ab"),
            "gcr.io/distroless/static"
        );
        assert_eq!(image_name("localhost:5000/app"), "localhost:5000/app");
    }
}

#[cfg(test)]
mod more_tests {
    use super::*;

    #[test]
    fn odd_dockerfiles() {
        let p = HardeningParams::default();
        assert!(check("D", "FROM\n", &p).is_err());
        assert!(check("D", "# only a comment\n", &p).is_err());
        let f = check(
            "D",
            "FROM --platform=$BUILDPLATFORM scratch AS a\nFROM a\nUSER root\n",
            &p,
        )
        .unwrap();
        assert_eq!(
            f.iter().map(|f| f.check.as_str()).collect::<Vec<_>>(),
            ["runs-as-root"]
        );
        let f = check("D", "ARG BASE\nFROM ${BASE}\nUSER 1000\n", &p).unwrap();
        assert_eq!(
            f.iter().map(|f| f.check.as_str()).collect::<Vec<_>>(),
            ["unresolved-base", "final-base-not-minimal"]
        );
        // Continuation lines: the instruction's first line is reported.
        let f = check("D", "FROM \\\n  alpine:3.20\nUSER app\n", &p).unwrap();
        assert_eq!(f[0].line, 1);
        assert_eq!(f[0].check, "unpinned-base");
    }

    fn checks(f: &[Finding]) -> Vec<&str> {
        f.iter().map(|f| f.check.as_str()).collect()
    }

    #[test]
    fn substitution_is_capped() {
        let mut a = HashMap::new();
        a.insert("A".to_owned(), "a".repeat(MAX_SUBSTITUTED - 1));
        assert_eq!(
            substitute("${A}b", &a).map(|s| s.len()),
            Ok(MAX_SUBSTITUTED)
        );
        assert_eq!(substitute("${A}bc", &a), Err(Unresolved::TooLong));
        let p = HardeningParams::default();
        let arg = format!("ARG A={}\n", "a".repeat(MAX_SUBSTITUTED - 1));
        // At the cap the reference is judged; one byte past it, it cannot be.
        let f = check("D", &format!("{arg}FROM ${{A}}b\nUSER 1\n"), &p).unwrap();
        assert_eq!(checks(&f), ["unpinned-base", "final-base-not-minimal"]);
        let f = check("D", &format!("{arg}FROM ${{A}}bc\nUSER 1\n"), &p).unwrap();
        assert_eq!(checks(&f), ["unresolved-base", "final-base-not-minimal"]);
        assert!(
            f[0].message.contains("more than 4096 bytes"),
            "{}",
            f[0].message
        );
        // 512 KB used 100 000 times would have been 50 GB.
        let text = format!(
            "ARG X={}\nFROM {}\nUSER 1\n",
            "x".repeat(512 * 1024),
            "$X".repeat(100_000)
        );
        let f = check("D", &text, &p).unwrap();
        assert_eq!(checks(&f), ["unresolved-base", "final-base-not-minimal"]);
    }

    #[test]
    fn stages_by_name() {
        let p = HardeningParams::default();
        // A repeated name: `FROM a` builds on its first definition.
        let f = check(
            "D",
            "FROM alpine:3 AS a\nFROM scratch AS a\nFROM a\nUSER 1\n",
            &p,
        )
        .unwrap();
        assert_eq!(checks(&f), ["unpinned-base", "final-base-not-minimal"]);
        assert!(f[1].message.contains("`alpine`"), "{}", f[1].message);
        // 20 000 stages, each on the one before.
        let mut text = String::from("FROM scratch AS s0\n");
        for i in 1..20_000 {
            text.push_str(&format!("FROM s{} AS s{i}\n", i - 1));
        }
        text.push_str("USER 1\n");
        let f = check("D", &text, &p).unwrap();
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn findings_are_capped() {
        let p = HardeningParams::default();
        // n unpinned stages, then the final stage's base and user: n + 2.
        let text = |n: usize| "FROM alpine:3\n".repeat(n);
        let f = check("D", &text(crate::ci::core::MAX_FINDINGS - 2), &p).unwrap();
        assert_eq!(f.len(), crate::ci::core::MAX_FINDINGS);
        assert_eq!(f.last().unwrap().check, "runs-as-root");
        let f = check("D", &text(crate::ci::core::MAX_FINDINGS - 1), &p).unwrap();
        assert_eq!(f.len(), crate::ci::core::MAX_FINDINGS + 1);
        let last = f.last().unwrap();
        assert_eq!(last.check, "findings-omitted");
        assert_eq!(last.rule, RULE);
        assert!(
            last.message.starts_with("1 more finding(s)"),
            "{}",
            last.message
        );
    }
}
